"""The event contract (BRIEF section 3): typed changes, and their SSE frames built once per event.

A change is a `PurchaseChanged`: what happened (`action`), to which purchase, by whom and when.
That is what the outbox keeps. On the wire each becomes the contract's JSON: its fields, plus
the id the outbox gave it, its type, its priority, and a title and a message worded by the
presentation layer (`Wording`, given to the hub: `web/toasts.py`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

import msgspec

from purchasing.domain.statuses import Kind, Status

PRIORITY = {
    Status.ARRIVED: "high",
    Status.IN_COOP: "high",
    Status.CANCELLED: "medium",
    Status.COMPLETED: "low",
}
RESYNC = "resync"
# Why a page is told to re-fetch instead of replaying: the metric's label, then what the page reads.
RESYNC_REASONS = {
    "invalid_cursor": "invalid cursor",
    "cursor_ahead": "cursor ahead of the newest event",
    "history_gone": "cursor older than the kept history",
    "too_many_missed": "too many missed events",
    "pruned": "events pruned before they were read",
    "slow": "slow",
    "permissions": "your permissions changed",
}
HEARTBEAT = b": ping\n\n"


class ChangeAction(StrEnum):
    CREATED = "created"
    EDITED = "edited"
    STATUS_CHANGED = "status_changed"
    DELETED = "deleted"


class Who(msgspec.Struct, frozen=True):
    id: int
    name: str


class PurchaseChanged(msgspec.Struct, frozen=True, kw_only=True):
    """A purchase created, edited, moved to another status or deleted: everything an open page
    needs to refresh, highlight and toast. `old_status` is None for a new purchase and equal to
    `new_status` for an edit or a deletion; `echo` is the mark of the tab that made the change
    (`web/echo.py`), '' when none did."""

    action: ChangeAction
    kind: Kind
    purchase_id: int
    invoice_number: str
    supplier: str
    company_id: int
    farm_id: int
    old_status: Status | None
    new_status: Status
    version: int
    changed_by: Who
    changed_at: datetime
    echo: str = ""

    @property
    def type(self) -> str:
        return self.kind.event_type

    @property
    def priority(self) -> str:
        return PRIORITY.get(self.new_status, "normal")


# A change's toast title and message, in the presentation layer's words.
Wording = Callable[[PurchaseChanged], tuple[str, str]]


@dataclass(frozen=True, slots=True)
class Event:
    """One outbox row, with its SSE frame encoded once for every client, and its payload for the
    monitor page. `committed_at` (Unix time) is when this process saw it commit, or for an event
    read back from the outbox, the time it was written."""

    id: int
    type: str
    kind: str
    company_id: int
    farm_id: int
    frame: bytes
    data: dict[str, Any]
    committed_at: float


# Names typed by people travel in the payload; escaped this way they stay inert even in a page
# that would paste the data into HTML.
HTML_SAFE = {b"<": b"\\u003c", b">": b"\\u003e", b"&": b"\\u0026"}


def wire(event_id: int, change: PurchaseChanged, wording: Wording) -> dict[str, Any]:
    """The contract's JSON for `change`, as the outbox numbered it."""
    title, message = wording(change)
    return {
        "id": event_id,
        "type": change.type,
        **msgspec.to_builtins(change),
        "priority": change.priority,
        "title": title,
        "message": message,
    }


def encode(event_id: int, event_type: str, data: dict[str, Any]) -> bytes:
    body = _html_safe(msgspec.json.encode({"id": event_id, **data}))
    return b"id: %d\nevent: %s\ndata: %s\n\n" % (event_id, event_type.encode(), body)


def _html_safe(body: bytes) -> bytes:
    for raw, escaped in HTML_SAFE.items():
        body = body.replace(raw, escaped)
    return body


def from_row(row: dict[str, Any], wording: Wording) -> Event:
    """The event an outbox row holds. A row that is not a `PurchaseChanged` (written by another
    version of the app during an upgrade, say) goes out as it was written."""
    try:
        change = msgspec.json.decode(row["payload"], type=PurchaseChanged)
    except msgspec.ValidationError:
        data = {"id": row["id"], **msgspec.json.decode(row["payload"])}
    else:
        data = wire(row["id"], change, wording)
    committed_at = row.get("committed_at") or row["created_at"].timestamp()
    return Event(
        id=row["id"],
        type=row["type"],
        kind=row["kind"],
        company_id=row["company"],
        farm_id=row["farm"],
        frame=encode(row["id"], row["type"], data),
        data=data,
        committed_at=committed_at,
    )


def resync_frame(cursor: int, reason: str) -> bytes:
    """Tell a page to re-fetch its table instead of replaying; `cursor` is where it resumes and
    `reason` a key of RESYNC_REASONS."""
    body = msgspec.json.encode({"id": cursor, "reason": RESYNC_REASONS[reason]})
    return b"id: %d\nevent: %s\ndata: %s\n\n" % (cursor, RESYNC.encode(), body)
