"""Status changes run straight on the driver (`db_direct`), on both engines: a transaction is
whole or nothing, and racing with Piccolo's transactions leaves the outbox gap-free, in commit
order, one event per change."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import msgspec
import pytest

from purchasing import db, db_direct
from purchasing.db_direct import MOVE, RECORD_MOVE, Script
from purchasing.domain.statuses import Kind, Status
from purchasing.services.changes import Changes
from purchasing.services.status import change_status
from purchasing.tables import OutboxEvent, Purchase, StatusHistory
from tests.helpers.app import Clerk, LiveApp, signed_in
from tests.helpers.demo import a_purchase, actor_named, main_company
from tests.helpers.forms import header, ids, valid_lines


async def test_a_script_that_fails_half_way_leaves_nothing_behind(database: str) -> None:
    engine = db.current_engine()
    await db.start(engine)
    try:
        p = await a_purchase("supply", "draft")
        supervisor = await actor_named("supervisor")
        histories = await StatusHistory.count()

        def half_a_move(_: object) -> Script[None]:
            now = datetime.now(UTC)
            moved = yield (
                MOVE,
                {
                    "id": p["id"],
                    "status": "pending",
                    "version": p["version"],
                    "actor": supervisor.id,
                    "now": now,
                },
            )
            assert moved == [{"version": p["version"] + 1}]
            yield (
                RECORD_MOVE,
                {
                    "id": p["id"],
                    "from_status": "draft",
                    "status": "pending",
                    "notes": "",
                    "actor": supervisor.id,
                    "now": now,
                    "client_ip": "",
                    "user_agent": "",
                },
            )
            raise RuntimeError("the server fell over here")

        with pytest.raises(RuntimeError, match="fell over"):
            await db_direct.run(half_a_move(None))
        row = (
            await Purchase.select(Purchase.status, Purchase.version)
            .where(Purchase.id == p["id"])
            .first()
        )
        assert row == {"status": "draft", "version": p["version"]}
        assert await StatusHistory.count() == histories

        # The writer is still usable, and the next change's event takes the next id.
        newest = await OutboxEvent.count()
        change = await change_status(
            Changes(), Kind.SUPPLY, p["id"], Status.PENDING, p["version"], "", supervisor
        )
        assert change.event_id == newest + 1 == await OutboxEvent.count()
    finally:
        await db.stop(engine)


async def test_direct_moves_racing_piccolo_creates_keep_the_outbox_gap_free(
    live: LiveApp,
) -> None:
    """20 status changes (direct) and 6 new purchases (Piccolo's transactions) at once, from
    separate clients: every one lands, and the outbox gets one event each, ids consecutive
    and each status event carrying the version its purchase now has."""
    drafts = (
        await Purchase.select(Purchase.id, Purchase.kind, Purchase.version)
        .where((Purchase.company == await main_company()) & (Purchase.status == "draft"))
        .order_by(Purchase.id)
        .limit(20)
    )
    assert len(drafts) == 20
    first_id = await OutboxEvent.count() + 1
    movers = [await signed_in(live, "admin") for _ in range(5)]
    creator = await signed_in(live, "admin")
    ref = await ids()

    async def moves(clerk: Clerk, rows: list[dict[str, Any]]) -> list[int]:
        codes = []
        for row in rows:
            form = {"status": "pending", "version": row["version"]}
            path = f"/purchases/{row['kind']}/{row['id']}/status"
            response = await clerk.post(path, form, htmx=True)
            codes.append(response.status_code)
        return codes

    async def creates() -> list[int]:
        codes = []
        for n in range(6):
            form = header(ref, f"RACE/{n}", **valid_lines("supply", ref))
            codes.append((await creator.post("/purchases/supply/new", form)).status_code)
        return codes

    results = await asyncio.gather(
        *(moves(clerk, drafts[n::5]) for n, clerk in enumerate(movers)), creates()
    )
    assert [code for codes in results[:-1] for code in codes] == [200] * 20
    assert results[-1] == [303] * 6

    events = await OutboxEvent.select().where(OutboxEvent.id >= first_id).order_by(OutboxEvent.id)
    assert [e["id"] for e in events] == list(range(first_id, first_id + 26))
    moved = {e["purchase"]: msgspec.json.decode(e["payload"]) for e in events}
    versions = {
        row["id"]: row["version"]
        for row in await Purchase.select(Purchase.id, Purchase.version).where(
            Purchase.id.is_in([d["id"] for d in drafts])
        )
    }
    assert {pid: moved[pid]["version"] for pid in versions} == versions
    assert all(moved[pid]["new_status"] == "pending" for pid in versions)
