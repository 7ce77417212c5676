"""The outbox: event rows written inside the change's transaction, read back in id order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
from piccolo.engine.postgres import PostgresEngine

from purchasing.db import current_engine, write_transaction
from purchasing.db_direct import INSERT_EVENT, LOCK_OUTBOX, Script
from purchasing.live.events import PurchaseChanged
from purchasing.tables import OutboxEvent

# Serialises outbox inserts on PostgreSQL until commit, so ids become visible in commit order and
# each id is the previous one plus one, even when a transaction rolls back. SQLite needs no lock:
# its write transactions already run one at a time.
OUTBOX_LOCK = 0x0B0C5
# Taken with try-lock by whichever process prunes; the others skip that round.
PRUNE_LOCK = 0x0B0C6
# One event as `read_after` returns it: id, type, kind, company, farm, payload (JSON text),
# created_at; `write` returns the same but for created_at, and `Changes` adds committed_at.
Row = dict[str, Any]


def _on_postgres() -> bool:
    return isinstance(current_engine(), PostgresEngine)


async def write_change(change: PurchaseChanged) -> Row:
    """Insert the event of `change`, inside the transaction that makes it."""
    return await write(
        change.type,
        change.kind.value,
        change.purchase_id,
        change.company_id,
        change.farm_id,
        change,
    )


def row_of(change: PurchaseChanged) -> Row:
    """The outbox row of `change`, but for its id."""
    return {
        "type": change.type,
        "kind": change.kind.value,
        "company": change.company_id,
        "farm": change.farm_id,
        "payload": msgspec.json.encode(change).decode(),
    }


def write_direct(change: PurchaseChanged) -> Script[Row]:
    """`write_change` as steps of a direct transaction (`db_direct`); the event's row."""
    row = row_of(change)
    yield LOCK_OUTBOX, {"lock": OUTBOX_LOCK}
    (written,) = yield (
        INSERT_EVENT,
        {
            **row,
            "purchase": change.purchase_id,
            "created_at": datetime.now(UTC),
        },
    )
    return {"id": written["id"], **row}


async def write(
    event_type: str, kind: str, purchase_id: int, company_id: int, farm_id: int, data: Any
) -> Row:
    """Insert one event (`data`: anything msgspec encodes); call inside the (write) transaction
    of the change it describes. Returns the event's row.

    The id is the newest plus one, taken under the outbox lock, not from a sequence: a sequence
    leaves a gap for every rolled-back transaction, and readers could not tell a gap from an event
    still to commit."""
    if current_engine().current_transaction.get() is None:
        raise RuntimeError("outbox.write needs the transaction of the change it describes")
    if _on_postgres():
        await OutboxEvent.raw("SELECT pg_advisory_xact_lock({})", OUTBOX_LOCK)
    row: Row = {
        "id": await newest_id() + 1,
        "type": event_type,
        "kind": kind,
        "company": company_id,
        "farm": farm_id,
        "payload": msgspec.json.encode(data).decode(),
    }
    await OutboxEvent.insert(OutboxEvent(**row, purchase=purchase_id, created_at=datetime.now(UTC)))
    return row


async def read_after(cursor: int, limit: int) -> list[Row]:
    return await (
        OutboxEvent.select(
            OutboxEvent.id,
            OutboxEvent.type,
            OutboxEvent.kind,
            OutboxEvent.company,
            OutboxEvent.farm,
            OutboxEvent.payload,
            OutboxEvent.created_at,
        )
        .where(OutboxEvent.id > cursor)
        .order_by(OutboxEvent.id)
        .limit(limit)
    )


async def newest_id() -> int:
    row = await OutboxEvent.select(OutboxEvent.id).order_by(OutboxEvent.id, ascending=False).first()
    return int(row["id"]) if row else 0


async def written_at(event_id: int) -> datetime | None:
    """When the event `event_id` was written, or None when there is no such event."""
    row = await OutboxEvent.select(OutboxEvent.created_at).where(OutboxEvent.id == event_id).first()
    return row["created_at"] if row else None


async def oldest_id() -> int:
    row = await OutboxEvent.select(OutboxEvent.id).order_by(OutboxEvent.id).first()
    return int(row["id"]) if row else 0


async def prune(keep: int, max_age: timedelta) -> int | None:
    """Forget events beyond the newest `keep` or older than `max_age`; older cursors then get a
    resync. The newest event always stays, so ids go on from it. One process at a time: returns
    how many were deleted, or None when another process is pruning."""
    async with write_transaction():
        if _on_postgres():
            rows = await OutboxEvent.raw("SELECT pg_try_advisory_xact_lock({}) AS got", PRUNE_LOCK)
            if not rows[0]["got"]:
                return None
        newest = await newest_id()
        too_old = OutboxEvent.created_at < datetime.now(UTC) - max_age
        deleted = (
            await OutboxEvent.delete()
            .where((OutboxEvent.id < newest) & ((OutboxEvent.id <= newest - keep) | too_old))
            .returning(OutboxEvent.id)
        )
        return len(deleted)
