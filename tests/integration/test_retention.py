"""Retention: the outbox keeps a set count and age of events, pruned by one process at a time;
a page whose cursor is older than what is kept gets a resync instead of a partial replay."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from purchasing import db
from purchasing.live import outbox
from purchasing.live.hub import Hub
from purchasing.presentation.toasts import wording
from purchasing.tables import OutboxEvent
from tests.helpers.servers import throwaway_database

DAY = timedelta(hours=24)


async def write_events(count: int) -> list[int]:
    ids = []
    for n in range(count):
        async with db.write_transaction():
            ids.append((await outbox.write("t", "supply", n, 1, 1, {"n": n}))["id"])
    return ids


async def kept() -> list[int]:
    return [row["id"] for row in await OutboxEvent.select(OutboxEvent.id).order_by(OutboxEvent.id)]


async def age(ids: list[int], by: timedelta) -> None:
    await OutboxEvent.update({OutboxEvent.created_at: datetime.now(UTC) - by}).where(
        OutboxEvent.id.is_in(ids)
    )


@pytest.fixture
async def events(migrated_database: str) -> AsyncIterator[list[int]]:
    """Ten events in a migrated database (pool open on PostgreSQL)."""
    engine = db.current_engine()
    await db.start(engine)
    try:
        yield await write_events(10)
    finally:
        await db.stop(engine)


async def test_pruning_keeps_the_newest_count_and_ids_go_on(events: list[int]) -> None:
    assert events == list(range(1, 11))
    assert await outbox.prune(keep=3, max_age=DAY) == 7
    assert await kept() == [8, 9, 10]
    assert await write_events(1) == [11]


async def test_pruning_forgets_events_older_than_the_age(events: list[int]) -> None:
    await age(events[:6], by=DAY + timedelta(minutes=1))
    assert await outbox.prune(keep=1000, max_age=DAY) == 6
    assert await kept() == events[6:]


async def test_the_newest_event_stays_however_old_so_ids_never_restart(
    events: list[int],
) -> None:
    await age(events, by=DAY * 3)
    assert await outbox.prune(keep=1000, max_age=DAY) == 9
    assert await kept() == [10]
    assert await write_events(1) == [11]


async def test_an_old_cursor_gets_a_resync_and_a_kept_one_a_replay(events: list[int]) -> None:
    hub = Hub(wording=wording, queue_limit=16, retention=4, catch_up_s=60)
    await hub.start()
    try:
        assert await hub.prune() == 6
        too_old = (await hub.subscribe(lambda event: True, "3")).take()
        assert b"event: resync" in too_old
        assert b"cursor older than the kept history" in too_old
        within = await hub.subscribe(lambda event: True, "7")
        replayed = within.take()
        assert replayed.count(b"event: t\n") == 3
        assert b"resync" not in replayed
    finally:
        await hub.stop()


async def test_only_one_process_prunes_at_a_time() -> None:
    """Whoever holds the prune lock prunes; a process that cannot take it skips the round."""
    async with throwaway_database() as url:
        engine = db.use_database(url)
        await db.start(engine)
        other = await asyncpg.connect(url)
        try:
            await db.migrate()
            ids = await write_events(10)
            await other.execute("SELECT pg_advisory_lock($1)", outbox.PRUNE_LOCK)
            assert await outbox.prune(keep=1, max_age=DAY) is None
            assert await kept() == ids
            await other.execute("SELECT pg_advisory_unlock($1)", outbox.PRUNE_LOCK)
            assert await outbox.prune(keep=1, max_age=DAY) == 9
        finally:
            await other.close()
            await db.stop(engine)


async def test_a_process_that_fell_behind_a_prune_sends_every_stream_a_resync(
    events: list[int],
) -> None:
    hub = Hub(wording=wording, queue_limit=16, retention=1000, catch_up_s=60)
    await hub.start()
    try:
        page = await hub.subscribe(lambda event: True, None)
        await write_events(5)  # 11..15, committed by "another process": no wake-up here
        assert await outbox.prune(keep=2, max_age=DAY) == 13
        await hub.poll()
        received = page.take()
        assert received.index(b"event: resync") < received.index(b"id: 14\n")
        assert b"events pruned before they were read" in received
        assert b"id: 15\n" in received
        assert b"id: 11\n" not in received
    finally:
        await hub.stop()
