"""On SQLite, the app's plain SELECTs share one connection while it runs: they still see every
commit at once, and many at a time get their own answers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from purchasing import db
from purchasing.db import SharedReaderSQLiteEngine, write_transaction
from purchasing.live import outbox
from purchasing.tables import OutboxEvent


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[SharedReaderSQLiteEngine]:
    engine = db.use_database(f"sqlite:///{tmp_path / 'reader.sqlite3'}")
    assert isinstance(engine, SharedReaderSQLiteEngine)
    await db.migrate()
    await db.start(engine)
    try:
        yield engine
    finally:
        await db.stop(engine)


async def test_a_shared_read_sees_each_commit_at_once(engine: SharedReaderSQLiteEngine) -> None:
    assert await outbox.newest_id() == 0
    for expected in range(1, 6):
        async with write_transaction():  # a connection of its own, as every write has
            await outbox.write("t", "supply", expected, 1, 1, {"n": expected})
        assert await outbox.newest_id() == expected


async def test_concurrent_reads_each_get_their_own_rows(engine: SharedReaderSQLiteEngine) -> None:
    async with write_transaction():
        for n in range(1, 41):
            await outbox.write("t", "supply", n, 1, 1, {"n": n})
    answers = await asyncio.gather(
        *(OutboxEvent.select(OutboxEvent.id).where(OutboxEvent.id == n) for n in range(1, 41))
    )
    assert [rows[0]["id"] for rows in answers] == list(range(1, 41))
