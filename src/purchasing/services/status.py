"""The only writer of purchase statuses."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from purchasing import metrics
from purchasing.db_direct import FIND_PURCHASE, LAST_MOVE, MOVE, RECORD_MOVE, Script
from purchasing.domain.actor import Actor
from purchasing.domain.permissions import Action, Forbidden, require
from purchasing.domain.statuses import Kind, RuleError, Status, check_move, check_note
from purchasing.i18n import N_
from purchasing.live.events import ChangeAction
from purchasing.services.changes import Change, Changes
from purchasing.services.errors import Conflict, NotFound
from purchasing.services.purchase_events import purchase_event
from purchasing.services.purchases import MAX_ID, opened_on
from purchasing.services.scope import direct_scope

log = logging.getLogger("purchasing.status")
RETRY_WINDOW = timedelta(seconds=2)


@dataclass(frozen=True)
class StatusChange:
    kind: Kind
    purchase_id: int
    invoice_number: str
    farm_id: int
    old_status: Status
    new_status: Status
    version: int
    changed_at: datetime
    changed_by: Actor
    event_id: int | None
    # The purchase as its table row shows it (listing.Row's columns), as it is now.
    shown: dict[str, Any]

    @property
    def duplicate(self) -> bool:
        """A retry that changed nothing: no version bump, no history row, no event."""
        return self.event_id is None


@dataclass
class Attempt:
    """One attempted status change, as its log line and metrics tell it."""

    kind: Kind
    purchase_id: int
    to_status: Status
    actor: Actor
    from_status: Status | None = None
    invoice: str = ""

    def finish(self, outcome: str, event_id: int | None = None) -> None:
        metrics.STATUS_CHANGES.labels(self.kind.value, outcome).inc()
        log.log(
            logging.WARNING if outcome == "error" else logging.INFO,
            "status change %s",
            outcome,
            extra={
                "event_id": event_id,
                "kind": self.kind.value,
                "purchase_id": self.purchase_id,
                "invoice": self.invoice,
                "user_id": self.actor.id,
                "user": self.actor.username,
                "from_status": self.from_status.value if self.from_status else None,
                "to_status": self.to_status.value,
                "outcome": outcome,
            },
        )


class StaleVersion(Conflict):
    """Raised on SQLite's writer thread (Move.script), like the RuleErrors and NotFounds there: all
    three are worded when read, on the request's side (domain/worded)."""

    def __init__(self, current_status: Status, current_version: int) -> None:
        super().__init__(
            N_(
                "Someone else changed this purchase meanwhile; it is now %(status)s. "
                "Check the row and try again."
            ),
            status=current_status,
        )
        self.current_status = current_status
        self.current_version = current_version


# The outcome an attempt is counted and logged with when it is refused; anything else: "error".
REFUSALS: tuple[tuple[type[Exception], str], ...] = (
    (RuleError, "rule_error"),
    (StaleVersion, "conflict"),
    (Forbidden, "forbidden"),
    (NotFound, "not_found"),
)


async def change_status(
    changes: Changes,
    kind: Kind,
    purchase_id: int,
    new_status: Status,
    expected_version: int,
    notes: str,
    actor: Actor,
    client_ip: str = "",
    user_agent: str = "",
    *,
    echo: str = "",
    created: str = "",
) -> StatusChange:
    """Move a purchase to `new_status` if the rules allow it and nobody changed it since
    `expected_version`; bump its version and write the history row and the event, all in one
    transaction. A retry of a change that landed less than 2 s ago changes and emits nothing.
    A control opened on another purchase of that id (`created`, see `opened_on`) finds none.
    Every attempt logs one line and counts in `purchasing_status_changes_total` with its
    outcome: ok, duplicate, rule_error, conflict, forbidden, not_found or error."""
    attempt = Attempt(kind, purchase_id, new_status, actor)
    try:
        change = await _change(
            changes, attempt, expected_version, notes.strip(), client_ip, user_agent, echo, created
        )
    except Exception as error:
        outcome = next((o for refusal, o in REFUSALS if isinstance(error, refusal)), "error")
        attempt.finish(outcome)
        raise
    attempt.finish("duplicate" if change.duplicate else "ok", change.event_id)
    return change


async def _change(
    changes: Changes,
    attempt: Attempt,
    expected_version: int,
    notes: str,
    client_ip: str,
    user_agent: str,
    echo: str,
    created: str,
) -> StatusChange:
    """The change itself, one direct transaction (`db_direct`); it tells `attempt` what it
    finds on the way."""
    require(attempt.actor.role, Action.READ, attempt.kind)
    if not 0 < attempt.purchase_id <= MAX_ID:
        raise NotFound(
            N_("No %(kind)s purchase %(id)s."), kind=attempt.kind, id=attempt.purchase_id
        )
    check_note(notes)  # before any query: a note of any size is refused at once
    move = Move(attempt, expected_version, notes, client_ip[:64], user_agent[:255], echo, created)
    change = await changes.run(move.script)
    if change.duplicate:
        changes.suppressed += 1
        metrics.DUPLICATES_SUPPRESSED.inc()
    return change


@dataclass
class Move:
    """A status change as a script of statements (run whole on SQLite's writer thread)."""

    attempt: Attempt
    expected_version: int
    notes: str
    client_ip: str
    user_agent: str
    echo: str
    created: str = ""  # the purchase's stamp as the control was opened on it

    def script(self, change: Change) -> Script[StatusChange]:
        attempt = self.attempt
        kind, purchase_id, new_status, actor = (
            attempt.kind,
            attempt.purchase_id,
            attempt.to_status,
            attempt.actor,
        )
        scope, scope_params = direct_scope(actor)
        found = yield FIND_PURCHASE[scope], {"id": purchase_id, "kind": kind.value, **scope_params}
        if not found or not opened_on(found[0], self.created):
            raise NotFound(N_("No %(kind)s purchase %(id)s."), kind=kind, id=purchase_id)
        row = found[0]
        current = attempt.from_status = Status(row["status"])
        attempt.invoice = row["invoice_number"]
        now = datetime.now(UTC)
        if row["version"] != self.expected_version:
            last_moves = yield LAST_MOVE, {"id": purchase_id}
            if _is_retry(row, new_status, self.expected_version, actor, now, last_moves):
                return _result(kind, row, new_status, new_status, row["version"], now, actor, None)
            raise StaleVersion(current, row["version"])
        check_move(kind, current, new_status, actor.role, self.notes)
        moved = yield (
            MOVE,
            {
                "id": purchase_id,
                "status": new_status.value,
                "version": self.expected_version,
                "actor": actor.id,
                "now": now,
            },
        )
        if not moved:
            raise StaleVersion(current, self.expected_version + 1)
        version = int(moved[0]["version"])
        yield (
            RECORD_MOVE,
            {
                "id": purchase_id,
                "from_status": current.value,
                "status": new_status.value,
                "notes": self.notes,
                "actor": actor.id,
                "now": now,
                "client_ip": self.client_ip,
                "user_agent": self.user_agent,
            },
        )
        event = purchase_event(
            ChangeAction.STATUS_CHANGED,
            kind,
            row,
            current,
            new_status,
            version,
            actor,
            now,
            self.echo,
        )
        written = yield from change.write(event)
        return _result(kind, row, current, new_status, version, now, actor, written["id"])


def _is_retry(
    row: dict[str, Any],
    status: Status,
    expected_version: int,
    actor: Actor,
    now: datetime,
    last_moves: list[dict[str, Any]],
) -> bool:
    """The actor's own move from `expected_version` to `status` (the last of `last_moves`)
    landed less than 2 s ago."""
    if row["status"] != status.value or row["version"] != expected_version + 1:
        return False
    return any(
        last["to_status"] == status.value
        and last["changed_by"] == actor.id
        and now - last["changed_at"] < RETRY_WINDOW
        for last in last_moves
    )


def _result(
    kind: Kind,
    row: dict[str, Any],
    old: Status,
    new: Status,
    version: int,
    at: datetime,
    actor: Actor,
    event_id: int | None,
) -> StatusChange:
    return StatusChange(
        kind=kind,
        purchase_id=row["id"],
        invoice_number=row["invoice_number"],
        farm_id=row["farm"],
        old_status=old,
        new_status=new,
        version=version,
        changed_at=at,
        changed_by=actor,
        event_id=event_id,
        shown={**row, "status": new.value, "version": version},
    )
