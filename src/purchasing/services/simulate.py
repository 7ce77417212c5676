"""Rapid real status changes on demo purchases, to watch the live tables (and the debounce) work."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from purchasing.domain.statuses import OPEN, Kind, Status
from purchasing.i18n import N_
from purchasing.live import outbox
from purchasing.services.changes import Changes
from purchasing.services.errors import NotFound
from purchasing.services.status import change_status
from purchasing.services.users import load_actor
from purchasing.tables import AppUser, OutboxEvent, Purchase

CYCLE = [s for s in Status if s in OPEN]  # draft, pending, confirmed, in_transit: any move allowed


@dataclass(frozen=True)
class Simulation:
    changes: int
    events: int
    suppressed: int


async def simulate(
    changes: Changes, kind: Kind, count: int, interval_ms: int, username: str, double_submit: bool
) -> Simulation:
    """Move open purchases of `kind` round the open statuses `count` times, as `username`."""
    user = await AppUser.select(AppUser.id).where(AppUser.username == username).first()
    actor = await load_actor(user["id"]) if user else None
    if actor is None:
        raise NotFound(N_("There is no active user %(username)s."), username=repr(username))
    candidates = await (
        Purchase.select(Purchase.id)
        .where((Purchase.kind == kind.value) & Purchase.status.is_in([s.value for s in OPEN]))
        .order_by(Purchase.id)
        .limit(10)
    )
    if not candidates:
        raise NotFound(N_("There are no open %(kind)s purchases to change."), kind=kind)
    first_event = await outbox.newest_id()
    suppressed_before = changes.suppressed
    made = 0
    for n in range(count):
        purchase_id = candidates[n % len(candidates)]["id"]
        row = (
            await Purchase.select(Purchase.status, Purchase.version)
            .where(Purchase.id == purchase_id)
            .first()
        )
        if row is None:
            continue
        target = CYCLE[(CYCLE.index(Status(row["status"])) + 1) % len(CYCLE)]
        args = (
            changes,
            kind,
            purchase_id,
            target,
            row["version"],
            "",
            actor,
            "127.0.0.1",
            "purchasing simulate",
        )
        await change_status(*args)
        made += 1
        if double_submit:
            await change_status(*args)
        if interval_ms:
            await asyncio.sleep(interval_ms / 1000)
    events = await OutboxEvent.count().where(
        (OutboxEvent.id > first_event) & (OutboxEvent.kind == kind.value)
    )
    return Simulation(
        changes=made, events=events, suppressed=changes.suppressed - suppressed_before
    )
