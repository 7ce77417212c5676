"""The floor: about the least work Python can do to fan an event out to N sockets.

A bare asyncio server (uvloop when installed): `GET /events` gets a chunked `text/event-stream`
header and a `retry:` frame, and its socket joins the set. `POST /trigger` encodes one SSE frame,
carrying the send time as `changed_at`, once, and writes it to every socket in the set, then
answers `{"sent": k}`. `GET /health` answers `{"streams": n}`. No routing, no auth, no queues.

Run: python -m bench.floor --port 8123"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
from typing import cast

from bench.aio import run
from bench.payload import EVENT_TYPE, event_payload, now_iso

STREAM_HEAD = (
    b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-store\r\n"
    b"transfer-encoding: chunked\r\n\r\n"
)
MAX_REQUEST_BYTES = 16 * 1024
EVENT = EVENT_TYPE.encode()


def chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


def small_response(body: dict[str, int]) -> bytes:
    data = json.dumps(body).encode()
    head = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n"
    return head % len(data) + data


class Floor:
    def __init__(self) -> None:
        self.streams: set[asyncio.Transport] = set()
        self.last_id = 0

    def trigger(self) -> int:
        self.last_id += 1
        data = json.dumps(event_payload(self.last_id, now_iso()), ensure_ascii=False).encode()
        frame = chunk(b"id: %d\nevent: %s\ndata: %s\n\n" % (self.last_id, EVENT, data))
        for transport in self.streams:
            transport.write(frame)
        return len(self.streams)


class FloorConnection(asyncio.Protocol):
    def __init__(self, floor: Floor) -> None:
        self.floor = floor
        self.transport: asyncio.Transport | None = None
        self.buffer = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def connection_lost(self, exc: Exception | None) -> None:
        if self.transport is not None:
            self.floor.streams.discard(self.transport)

    def data_received(self, data: bytes) -> None:
        transport = self.transport
        if transport is None:
            return
        self.buffer += data
        while b"\r\n\r\n" in self.buffer:
            head, _, self.buffer = self.buffer.partition(b"\r\n\r\n")
            self._answer(transport, head.split(b"\r\n", 1)[0])
        if len(self.buffer) > MAX_REQUEST_BYTES:
            transport.close()

    def _answer(self, transport: asyncio.Transport, request_line: bytes) -> None:
        if request_line.startswith(b"GET /events "):
            transport.write(STREAM_HEAD + chunk(b"retry: 2000\n\n"))
            self.floor.streams.add(transport)
        elif request_line.startswith(b"POST /trigger "):
            transport.write(small_response({"sent": self.floor.trigger()}))
        elif request_line.startswith(b"GET /health "):
            transport.write(small_response({"streams": len(self.floor.streams)}))
        else:
            transport.write(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n")


async def serve(port: int) -> None:
    floor = Floor()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: FloorConnection(floor), "127.0.0.1", port, backlog=2048
    )
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        run(serve(args.port))


if __name__ == "__main__":
    main()
