"""`DATABASE_URL=postgres://...` works through Piccolo's PostgresEngine."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest

from purchasing import db
from purchasing.domain.statuses import Kind, Status
from purchasing.services.demo import seed_demo
from purchasing.services.listing import TableQuery, list_purchases
from purchasing.services.status import StaleVersion, change_status
from purchasing.services.users import authenticate
from purchasing.tables import OutboxEvent, Purchase, StatusHistory

SERVER_URL = os.environ.get("TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test")
pytestmark = pytest.mark.postgres


@pytest.fixture
async def postgres_url() -> AsyncIterator[str]:
    """A throwaway database on the test server; missing server fails under CI, else skips."""
    try:
        admin = await asyncpg.connect(SERVER_URL, timeout=5)
    except (OSError, asyncpg.PostgresError) as error:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is required in CI and unreachable at {SERVER_URL}: {error}")
        pytest.skip(f"no PostgreSQL at {SERVER_URL}")
    name = f"purchasing_test_{uuid.uuid4().hex[:12]}"
    await admin.execute(f'CREATE DATABASE "{name}"')
    base = SERVER_URL.rsplit("/", 1)[0]
    engine = db.use_database(f"{base}/{name}")
    await db.start(engine)
    try:
        yield f"{base}/{name}"
    finally:
        await db.stop(engine)
        await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        await admin.close()


async def test_the_app_runs_on_postgresql(postgres_url: str) -> None:
    await db.migrate()
    assert await seed_demo()
    assert not await seed_demo()
    supervisor = await authenticate("supervisor", "supervisor-demo")
    assert supervisor is not None

    page = await list_purchases(
        Kind.FEED, TableQuery(q="lembang", sort="status", per_page=50), supervisor
    )
    assert page.rows
    assert all("Lembang" in row.farm for row in page.rows)

    draft = next(
        r for r in (await list_purchases(Kind.SUPPLY, TableQuery(status="draft"), supervisor)).rows
    )
    change = await change_status(
        Kind.SUPPLY, draft.id, Status.PENDING, draft.version, "", supervisor
    )
    assert change.version == draft.version + 1
    stored = await Purchase.select(Purchase.status).where(Purchase.id == draft.id).first()
    assert stored == {"status": "pending"}
    assert await StatusHistory.count().where(StatusHistory.purchase == draft.id) == 2


async def test_concurrent_double_submits_on_postgresql(postgres_url: str) -> None:
    """The row lock makes the second of two simultaneous identical moves see the first."""
    await db.migrate()
    await seed_demo()
    supervisor = await authenticate("supervisor", "supervisor-demo")
    manager = await authenticate("manager", "manager-demo")
    assert supervisor is not None
    assert manager is not None
    page = await list_purchases(Kind.FEED, TableQuery(status="draft"), supervisor)
    mine, theirs = page.rows[0], page.rows[1]
    events_before = await OutboxEvent.count().where(OutboxEvent.purchase == mine.id)
    same = [
        change_status(Kind.FEED, mine.id, Status.PENDING, mine.version, "", supervisor)
        for _ in range(2)
    ]
    results = await asyncio.gather(*same)
    assert sorted(r.duplicate for r in results) == [False, True]
    assert await OutboxEvent.count().where(OutboxEvent.purchase == mine.id) == events_before + 1

    rival = change_status(Kind.FEED, theirs.id, Status.CONFIRMED, theirs.version, "", manager)
    first = change_status(Kind.FEED, theirs.id, Status.PENDING, theirs.version, "", supervisor)
    outcomes = await asyncio.gather(first, rival, return_exceptions=True)
    conflicts = [o for o in outcomes if isinstance(o, StaleVersion)]
    assert len(conflicts) == 1
    winner = next(o for o in outcomes if not isinstance(o, BaseException))
    assert f"it is now {winner.new_status.label}" in str(conflicts[0])
