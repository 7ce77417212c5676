"""GET /events: typed events in commit order, resume, resync, heartbeats, slow clients, cleanup."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import socket
from datetime import datetime
from typing import Any

import httpx
import pytest

from purchasing.db import write_transaction
from purchasing.domain.statuses import OPEN
from purchasing.live import outbox
from purchasing.services import status as status_service
from purchasing.services.purchase_events import purchase_event
from purchasing.tables import OutboxEvent, Purchase, StatusHistory
from tests.helpers.app import Clerk, LiveApp
from tests.helpers.demo import a_purchase, move
from tests.helpers.scrape import scrape
from tests.helpers.sse import eventually, open_stream

CONTRACT = {
    "id",
    "type",
    "kind",
    "purchase_id",
    "invoice_number",
    "old_status",
    "new_status",
    "version",
    "changed_by",
    "changed_at",
    "farm_id",
    "priority",
    "title",
    "message",
}


async def test_the_stream_opens_with_retry_and_carries_typed_events(
    admin: Clerk, client: httpx.AsyncClient
) -> None:
    p = await a_purchase("livestock", "in_transit")
    async with open_stream(client) as stream:
        assert stream.response.headers["content-type"].startswith("text/event-stream")
        assert (await stream.next()).retry == 2000
        assert (await move(admin, "livestock", p["id"], "arrived")).status_code == 200
        frame = await stream.next_event()
    assert frame.event == "livestock_purchase_status_changed"
    data = frame.json
    assert set(data) >= CONTRACT
    assert frame.id == str(data["id"])
    assert (data["purchase_id"], data["old_status"], data["new_status"]) == (
        p["id"],
        "in_transit",
        "arrived",
    )
    assert (data["kind"], data["type"], data["priority"]) == ("livestock", frame.event, "high")
    assert data["version"] == p["version"] + 1
    assert data["changed_by"]["name"] == "Admin"
    assert datetime.fromisoformat(data["changed_at"]).utcoffset() is not None
    assert data["invoice_number"] == p["invoice_number"]
    assert data["invoice_number"] in data["message"]


async def assert_next_is_a_new_change(clerk: Clerk, stream: Any) -> None:
    """Make one more change: any duplicate still on its way would arrive before it."""
    p = await a_purchase("livestock", "draft")
    await move(clerk, "livestock", p["id"], "pending")
    assert (await stream.next_event()).json["purchase_id"] == p["id"]


async def test_resume_after_a_cursor_by_query_and_by_header(
    admin: Clerk, client: httpx.AsyncClient
) -> None:
    drafts = (
        await Purchase.select(Purchase.id)
        .where((Purchase.kind == "feed") & (Purchase.status == "draft"))
        .limit(3)
    )
    for row in drafts:
        assert (await move(admin, "feed", row["id"], "pending")).status_code == 200
    ids = [
        r["id"]
        for r in await OutboxEvent.select(OutboxEvent.id)
        .order_by(OutboxEvent.id, ascending=False)
        .limit(3)
    ]
    newest, middle, oldest = ids
    async with open_stream(client, f"/events?after={oldest}") as stream:
        assert [f.id for f in await stream.events(2)] == [str(middle), str(newest)]
    async with open_stream(
        client, "/events?after=0", headers={"Last-Event-ID": str(middle)}
    ) as stream:
        assert [f.id for f in await stream.events(1)] == [str(newest)]
        assert not [f for f in stream.pending() if f.comment is None and f.retry is None]


@pytest.mark.parametrize("cursor", ["abc", "-1", "999999999", "1.5", "\u00b2", "9" * 40])
async def test_a_garbage_or_future_cursor_gets_one_resync(
    client: httpx.AsyncClient, admin: Clerk, cursor: str
) -> None:
    newest = await outbox.newest_id()
    async with open_stream(client, f"/events?after={cursor}") as stream:
        frame = await stream.next_event()
        assert frame.event == "resync"
        assert frame.id == str(newest)
        p = await a_purchase("supply", "draft")
        await move(admin, "supply", p["id"], "pending")
        assert (await stream.next_event()).json["purchase_id"] == p["id"]


@pytest.mark.parametrize("tuned", [{"stream_queue_limit": 2}], indirect=True)
async def test_a_cursor_older_than_the_kept_history_gets_a_resync(tuned: LiveApp) -> None:
    ring = tuned.app.state.hub.replay.ring
    assert len(ring) == ring.maxlen == 8
    async with tuned.client() as client:
        await Clerk(client).login("superadmin")  # sees every event in the ring
        async with open_stream(client, f"/events?after={ring[0].id - 2}") as stream:
            assert (await stream.next_event()).event == "resync"
        async with open_stream(client, f"/events?after={ring[0].id - 1}") as stream:
            # Still within the kept history, but more missed events than a queue holds.
            assert (await stream.next_event()).event == "resync"
        async with open_stream(client, f"/events?after={ring[-2].id}") as stream:
            assert (await stream.next_event()).id == str(ring[-1].id)


@pytest.mark.parametrize("tuned", [{"heartbeat_s": 0.05}], indirect=True)
async def test_idle_streams_get_heartbeat_comments(tuned: LiveApp) -> None:
    async with tuned.client() as client:
        await Clerk(client).login("admin")
        async with open_stream(client) as stream:
            await stream.next()  # retry
            assert (await stream.next()).comment == "ping"
            assert (await stream.next()).comment == "ping"


async def test_a_rolled_back_change_emits_nothing(
    admin: Clerk, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    p = await a_purchase("supply", "pending")
    events_before, history_before = await OutboxEvent.count(), await StatusHistory.count()

    def made_then_fail(*args: Any) -> Any:
        """The event is made after the move and its history row are written: fail there."""
        purchase_event(*args)
        raise RuntimeError("boom")

    async with open_stream(client) as stream:
        await stream.next()
        monkeypatch.setattr(status_service, "purchase_event", made_then_fail)
        failed = await move(admin, "supply", p["id"], "confirmed")
        monkeypatch.undo()
        assert failed.status_code == 500
        assert "Something went wrong" in failed.text
        assert await OutboxEvent.count() == events_before
        assert await StatusHistory.count() == history_before
        q = await a_purchase("supply", "draft")
        await move(admin, "supply", q["id"], "pending")
        frame = await stream.next_event()
    assert frame.json["purchase_id"] == q["id"]
    after = (
        await Purchase.select(Purchase.status, Purchase.version)
        .where(Purchase.id == p["id"])
        .first()
    )
    assert after == {"status": "pending", "version": p["version"]}


async def test_fifty_concurrent_changes_arrive_once_each_in_order_without_gaps(
    live: LiveApp,
) -> None:
    purchases = (
        await Purchase.select(Purchase.id)
        .where((Purchase.kind == "supply") & Purchase.status.is_in([s.value for s in OPEN]))
        .limit(10)
    )
    targets = ["pending", "confirmed", "in_transit", "draft", "arrived"]

    async def clerk_task(clerk: Clerk, n: int) -> int:
        pid = purchases[n % len(purchases)]["id"]
        status = targets[n % len(targets)]
        response = await move(clerk, "supply", pid, status, "")
        return pid if response.status_code == 200 and "is now" in response.text else 0

    async with contextlib.AsyncExitStack() as browsers, live.client() as watcher:
        # Ten clerks logged in beforehand (logins are not what races here), five changes each.
        clerks = []
        for _ in range(10):
            clerks.append(Clerk(await browsers.enter_async_context(live.client())))
            await clerks[-1].login("admin")
        await Clerk(watcher).login("supervisor")
        start = await outbox.newest_id()
        async with open_stream(watcher, f"/events?after={start}") as stream:
            changes = (clerk_task(clerks[n % 10], n) for n in range(50))
            winners = [pid for pid in await asyncio.gather(*changes) if pid]
            frames = await stream.events(len(winners))
            async with live.client() as http:
                clerk = Clerk(http)
                await clerk.login("admin")
                await assert_next_is_a_new_change(clerk, stream)
    ids = [int(f.id or 0) for f in frames]
    assert ids == list(range(start + 1, start + 1 + len(winners)))
    seen = [(f.json["purchase_id"], f.json["version"]) for f in frames]
    assert len(set(seen)) == len(seen)
    assert sorted(p for p, _ in seen) == sorted(winners)
    history = await StatusHistory.count().where(StatusHistory.id > 0)
    assert history >= len(winners)


@pytest.mark.parametrize("tuned", [{"stream_queue_limit": 16}], indirect=True)
async def test_a_slow_client_gets_a_resync_and_the_others_every_event(tuned: LiveApp) -> None:
    hub = tuned.app.state.hub
    async with tuned.client() as fast:
        await Clerk(fast).login("admin")
        before = await scrape(fast)
        start = await outbox.newest_id()
        _, slow_writer = await open_unread_stream(tuned.url, fast.cookies, start)
        await eventually(lambda: len(hub.subscribers) == 1)
        (slow,) = hub.subscribers
        async with open_stream(fast, f"/events?after={start}") as stream:
            await eventually(lambda: len(hub.subscribers) == 2)
            frames = []
            # Bursts a reading client keeps up with, while the other reads nothing at all.
            for _ in range(300):
                hub.committed(await insert_events(10, size=2000))
                frames += await stream.events(10)
        # The stalled stream's backlog was dropped: it holds a resync first, then only newer events.
        assert slow.frames[0].startswith(b"id: ")
        assert b"\nevent: resync\n" in slow.frames[0]
        slow_writer.close()
        after = await scrape(fast)
    assert [int(f.id or 0) for f in frames] == list(range(start + 1, start + 3001))
    assert {f.event for f in frames} == {"supply_purchase_status_changed"}
    assert hub.stats.slow_drops >= 1

    def moved(name: str, **labels: str) -> float:
        return after.value(name, **labels) - before.value(name, **labels)

    # Every drop is counted, and sent its stream a resync; every frame the fast stream read was
    # delivered, and so were the slow stream's until it stalled.
    assert moved("purchasing_slow_clients_dropped_total") == hub.stats.slow_drops
    assert moved("purchasing_resyncs_sent_total", reason="slow") == hub.stats.slow_drops
    assert moved("purchasing_events_delivered_total") >= len(frames)


async def open_unread_stream(
    url: str, cookies: httpx.Cookies, after: int
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A raw stream request from a client with a tiny receive buffer that will not read."""
    host, port = url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    cookie = "; ".join(f"{name}={value}" for name, value in cookies.items())
    writer.write(
        f"GET /events?after={after} HTTP/1.1\r\nHost: {host}\r\nCookie: {cookie}\r\n\r\n".encode()
    )
    await writer.drain()
    return reader, writer


async def insert_events(count: int, size: int) -> int:
    """Committed events straight into the outbox, large enough to fill socket buffers, numbered
    on from the newest as the outbox numbers them; returns the newest id."""
    padding = "x" * size
    async with write_transaction():
        newest = await outbox.newest_id()
        rows = [
            OutboxEvent(
                id=newest + n,
                type="supply_purchase_status_changed",
                kind="supply",
                purchase=1,
                company=1,
                farm=1,
                payload=f'{{"pad": "{padding}", "n": {n}}}',
            )
            for n in range(1, count + 1)
        ]
        await OutboxEvent.insert(*rows)
    return newest + count


async def test_a_closed_connection_is_cleaned_up_at_once(
    live: LiveApp, admin: Clerk, client: httpx.AsyncClient
) -> None:
    hub = live.app.state.hub
    async with open_stream(client) as stream:
        await stream.next()
        assert len(hub.subscribers) == 1
    await eventually(lambda: len(hub.subscribers) == 0)


async def test_closing_the_hub_ends_open_streams(
    live: LiveApp, admin: Clerk, client: httpx.AsyncClient
) -> None:
    async with open_stream(client) as stream:
        await stream.next()
        live.app.state.hub.close_streams()
        await asyncio.wait_for(stream.ended.wait(), 5)


async def test_operators_receive_only_their_farms_events(live: LiveApp, admin: Clerk) -> None:
    f01 = await a_purchase("feed", "draft", farm=1)
    f03 = await a_purchase("feed", "draft", farm=3)
    async with live.client() as http:
        await Clerk(http).login("operator3")
        async with open_stream(http) as stream:
            await stream.next()
            await move(admin, "feed", f01["id"], "pending")
            await move(admin, "feed", f03["id"], "pending")
            frame = await stream.next_event()
    assert frame.json["purchase_id"] == f03["id"]


async def test_each_status_change_logs_one_line_and_a_retry_says_duplicate(
    admin: Clerk, caplog: pytest.LogCaptureFixture
) -> None:
    p = await a_purchase("feed", "confirmed")
    form: dict[str, Any] = {"status": "in_transit", "version": p["version"]}
    with caplog.at_level(logging.INFO, logger="purchasing.status"):
        await admin.post(f"/purchases/feed/{p['id']}/status", form, htmx=True)
        await admin.post(f"/purchases/feed/{p['id']}/status", form, htmx=True)
    lines = [vars(r) for r in caplog.records if r.name == "purchasing.status"]
    assert [(line["outcome"], line["from_status"], line["to_status"]) for line in lines] == [
        ("ok", "confirmed", "in_transit"),
        ("duplicate", "in_transit", "in_transit"),
    ]
    assert lines[0]["event_id"] == await outbox.newest_id()
    assert lines[1]["event_id"] is None
    assert {(line["user"], line["purchase_id"], line["kind"]) for line in lines} == {
        ("admin", p["id"], "feed")
    }


@pytest.mark.parametrize("tuned", [{"stream_queue_limit": 16}], indirect=True)
async def test_a_burst_larger_than_a_queue_still_reaches_a_reading_client_whole(
    tuned: LiveApp,
) -> None:
    async with tuned.client() as http:
        await Clerk(http).login("admin")
        start = await outbox.newest_id()
        async with open_stream(http, f"/events?after={start}") as stream:
            await stream.next()
            tuned.app.state.hub.committed(await insert_events(100, size=200))
            frames = await stream.events(100)
    assert [int(f.id or 0) for f in frames] == list(range(start + 1, start + 101))
    assert tuned.app.state.hub.stats.slow_drops == 0


async def test_editing_a_purchase_tells_the_open_tables(
    admin: Clerk, client: httpx.AsyncClient
) -> None:
    p = await a_purchase("supply", "confirmed")
    page = await admin.get(f"/purchases/supply/{p['id']}/edit")
    assert page.status_code == 200
    form = dict(
        re.findall(r'name="([\w-]+)" type="(?:text|date|number)" value="([^"]*)"', page.text)
    )
    selects = re.findall(
        r'<select id="field-([\w-]+)"[^>]*>(?:(?!</select>).)*?<option value="(\d+)" selected',
        page.text,
        re.S,
    )
    form.update(dict(selects))
    form.update({"version": str(p["version"]), "action": "save", "notes": "edited"})
    async with open_stream(client) as stream:
        await stream.next()
        saved = await admin.post(f"/purchases/supply/{p['id']}/edit", form)
        assert saved.status_code == 303, saved.text
        data = (await stream.next_event()).json
    assert (data["action"], data["old_status"], data["new_status"]) == (
        "edited",
        "confirmed",
        "confirmed",
    )
    assert data["version"] == p["version"] + 1
