"""Under the real server, stream frames are written straight to the connection as HTTP/1.1
chunks; a client that stops reading makes the writes wait, and once it reads again it gets
every event, in order, once."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from purchasing.db import write_transaction
from purchasing.live import outbox
from purchasing.serving import contract
from purchasing.serving.front import Front
from purchasing.settings import Settings
from tests.helpers.app import Clerk
from tests.helpers.demo import a_purchase, move
from tests.helpers.servers import AppServer, served
from tests.helpers.sse import eventually, open_stream, parse

# About 6 MB of frames: more than the kernel lets a socket buffer (4 MB here) and the transport's.
EVENTS = 1_500
QUEUE_LIMIT = 2_000  # so the backlog waits instead of turning into a resync


@pytest.fixture
async def server(tmp_path: Path, database: str) -> AsyncIterator[AppServer]:
    server = AppServer(tmp_path, {"DATABASE_URL": database, "SSE_QUEUE_LIMIT": str(QUEUE_LIMIT)})
    async with served(server) as running:
        yield running


async def health(client: httpx.AsyncClient) -> dict[str, Any]:
    return (await client.get("/health")).json()  # type: ignore[no-any-return]


async def test_streams_are_written_to_the_connection_and_read_as_sse(
    server: AppServer,
) -> None:
    async with httpx.AsyncClient(base_url=server.url) as client:
        clerk = Clerk(client)
        await clerk.login("supervisor")
        async with open_stream(client) as first, open_stream(client) as second:
            await until_health(lambda state: state["streams"] == 2, client)
            assert (await health(client))["direct_streams"] == 2
            purchase = await a_purchase("supply", "draft")
            assert (await move(clerk, "supply", purchase["id"], "pending")).status_code == 200
            for page in (first, second):
                frame = await page.next_event()
                assert frame.event == "supply_purchase_status_changed"
                assert frame.json["new_status"] == "pending"


async def test_a_client_that_stops_reading_gets_every_event_once_it_reads_again(
    server: AppServer,
) -> None:
    async with httpx.AsyncClient(base_url=server.url) as client:
        await Clerk(client).login("supervisor")
        cookie = "; ".join(f"{name}={value}" for name, value in client.cookies.items())
        slow = socket.socket()
        slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        slow.setblocking(False)
        await asyncio.get_running_loop().sock_connect(slow, ("127.0.0.1", server.port))
        reader, writer = await asyncio.open_connection(sock=slow)
        writer.write(
            f"GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: {cookie}\r\n\r\n".encode()
        )
        head = await reader.readuntil(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200")
        assert b"transfer-encoding: chunked" in head.lower()
        await until_health(lambda state: state["streams"] == 1, client)

        written = await write_events(EVENTS)
        # Not read meanwhile: the server's writes to this client have to wait.
        await until_health(lambda state: state["hub"]["slow_writes"] >= 1, client)

        frames = await read_events(reader, until=written[-1])
        writer.close()
    ids = [int(frame.id) for frame in frames if frame.id is not None]
    assert ids == written
    assert all(frame.event == "supply_purchase_status_changed" for frame in frames)


async def until_health(check: Any, client: httpx.AsyncClient, wait_s: float = 20) -> None:
    """Wait until the server's /health satisfies `check`, or fail."""

    async def holds() -> bool:
        return bool(check(await health(client)))

    await eventually(holds, wait_s)


async def write_events(count: int) -> list[int]:
    """`count` outbox events of a main-company supply purchase, in batches of 50, each about
    4 KB on the wire; the server reads them on its catch-up timer."""
    purchase = await a_purchase("supply", "draft")
    ids = []
    for start in range(0, count, 50):
        async with write_transaction():
            for number in range(start, start + 50):
                data = {
                    "kind": "supply",
                    "purchase_id": purchase["id"],
                    "note": f"{number:04d}" * 1_000,
                }
                event = await outbox.write(
                    "supply_purchase_status_changed",
                    "supply",
                    purchase["id"],
                    purchase["company"],
                    purchase["farm"],
                    data,
                )
                ids.append(event["id"])
    return ids


async def read_events(reader: asyncio.StreamReader, until: int) -> list[Any]:
    """Decode chunks exactly as HTTP/1.1 frames them, then SSE frames, up to event `until`
    (within 60 s: heartbeats alone would keep the stream going for ever)."""
    text = ""
    frames = []
    deadline = asyncio.get_running_loop().time() + 60
    while True:
        left = deadline - asyncio.get_running_loop().time()
        assert left > 0, f"event {until} not received; last: {frames[-1].id if frames else None}"
        size_line = await asyncio.wait_for(reader.readuntil(b"\r\n"), left)
        size = int(size_line.strip(), 16)
        chunk = await asyncio.wait_for(reader.readexactly(size + 2), left)
        assert chunk.endswith(b"\r\n"), "a chunk longer or shorter than its size line says"
        text += chunk[:-2].decode()
        while "\n\n" in text:
            block, text = text.split("\n\n", 1)
            frame = parse(block)
            if frame.comment is None and frame.retry is None:
                json.loads(frame.data)  # every frame's data is whole JSON
                frames.append(frame)
                if frame.id == str(until):
                    return frames


async def test_with_direct_streams_off_streams_go_through_litestar_and_the_asgi_send(
    tmp_path: Path, database: str
) -> None:
    plain = AppServer(tmp_path, {"DATABASE_URL": database, "DIRECT_STREAMS": "0"})
    async with served(plain), httpx.AsyncClient(base_url=plain.url) as client:
        clerk = Clerk(client)
        await clerk.login("supervisor")
        async with open_stream(client) as page:
            await until_health(lambda state: state["streams"] == 1, client)
            assert (await health(client))["direct_streams"] == 0
            purchase = await a_purchase("supply", "draft")
            assert (await move(clerk, "supply", purchase["id"], "pending")).status_code == 200
            frame = await page.next_event()
            assert (frame.event, frame.json["new_status"]) == (
                "supply_purchase_status_changed",
                "pending",
            )
        client.cookies.clear()
        client.cookies.set("session", "made-up")  # a session nobody has
        assert (await client.get("/events")).status_code == 401


def test_a_uvicorn_without_what_direct_streams_need_serves_them_the_plain_way(
    tmp_path: Path, database: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(database_url=database, secret_key="test-secret-key", var_dir=tmp_path)
    assert Front.around(settings).direct
    transport = next(d for d in contract.DETAILS if d.name == "transport")
    monkeypatch.setattr(contract, "missing", lambda **_: [transport])
    front = Front.around(settings)
    assert not front.direct
    assert front.app.state.direct_writers is None
    assert f"this uvicorn lacks {transport}" in caplog.text
