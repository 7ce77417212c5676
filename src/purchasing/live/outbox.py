"""The outbox: event rows written inside the change's transaction, read back in id order."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import msgspec
from piccolo.engine.postgres import PostgresEngine

from purchasing.db import current_engine
from purchasing.tables import OutboxEvent

# Serialises outbox inserts on PostgreSQL until commit, so ids become visible in commit order.
# SQLite needs nothing: its write transactions already run one at a time.
OUTBOX_LOCK = 0x0B0C5
_listeners: list[Callable[[], None]] = []


def on_commit(listener: Callable[[], None]) -> Callable[[], None]:
    """Call `listener` after any outbox write commits in this process; returns an unsubscriber."""
    _listeners.append(listener)
    return lambda: _listeners.remove(listener)


def committed() -> None:
    for listener in list(_listeners):
        listener()


async def write(
    event_type: str,
    kind: str,
    purchase_id: int,
    company_id: int,
    farm_id: int,
    data: dict[str, Any],
) -> int:
    """Insert one event; call inside the transaction of the change it describes."""
    if isinstance(current_engine(), PostgresEngine):
        await OutboxEvent.raw("SELECT pg_advisory_xact_lock({})", OUTBOX_LOCK)
    rows = await OutboxEvent.insert(
        OutboxEvent(
            type=event_type,
            kind=kind,
            purchase=purchase_id,
            company=company_id,
            farm=farm_id,
            payload=msgspec.json.encode(data).decode(),
            created_at=datetime.now(UTC),
        )
    )
    return int(rows[0]["id"])


async def read_after(cursor: int, limit: int) -> list[dict[str, Any]]:
    return await (
        OutboxEvent.select(
            OutboxEvent.id,
            OutboxEvent.type,
            OutboxEvent.kind,
            OutboxEvent.company,
            OutboxEvent.farm,
            OutboxEvent.payload,
        )
        .where(OutboxEvent.id > cursor)
        .order_by(OutboxEvent.id)
        .limit(limit)
    )


async def newest_id() -> int:
    row = await OutboxEvent.select(OutboxEvent.id).order_by(OutboxEvent.id, ascending=False).first()
    return int(row["id"]) if row else 0


async def oldest_id() -> int:
    row = await OutboxEvent.select(OutboxEvent.id).order_by(OutboxEvent.id).first()
    return int(row["id"]) if row else 0


async def prune(keep: int) -> None:
    """Forget all but the newest `keep` events; older cursors then get a resync."""
    newest = await newest_id()
    if newest > keep:
        await OutboxEvent.delete().where(OutboxEvent.id <= newest - keep)
