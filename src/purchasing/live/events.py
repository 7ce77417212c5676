"""The event contract (BRIEF section 3): payloads and SSE frames, built once per event."""

from __future__ import annotations

from dataclasses import dataclass
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


def priority(status: Status) -> str:
    return PRIORITY.get(status, "normal")


def payload(
    *,
    kind: Kind,
    purchase_id: int,
    invoice_number: str,
    old_status: Status | None,
    new_status: Status,
    version: int,
    changed_by: tuple[int, str],
    changed_at: str,
    farm_id: int,
    echo: str,
    supplier: str = "",
    deleted: bool = False,
) -> dict[str, Any]:
    """Everything a page needs to refresh, highlight and toast, minus the id the outbox assigns.

    `action` tells a status move from a new purchase (no old status) and an edit of its
    details (same status): both change what tables show, so they travel the same way."""
    who = changed_by[1]
    subject = f"{invoice_number} ({supplier})" if supplier else invoice_number
    if deleted:
        action = "deleted"
        title = f"{kind.value.title()} purchase deleted"
        message = f"{subject} was deleted by {who}."
    elif old_status is None:
        action = "created"
        title = f"New {kind.value} purchase"
        message = f"{subject} was created as {new_status.label} by {who}."
    elif old_status is new_status:
        action = "edited"
        title = f"{kind.value.title()} purchase edited"
        message = f"{subject}: details edited by {who}."
    else:
        action = "status"
        title = f"{kind.value.title()} purchase {new_status.label.lower()}"
        message = f"{subject}: {old_status.label} → {new_status.label} by {who}."
    return {
        "type": kind.event_type,
        "kind": kind.value,
        "purchase_id": purchase_id,
        "invoice_number": invoice_number,
        "supplier": supplier,
        "old_status": old_status.value if old_status else None,
        "new_status": new_status.value,
        "version": version,
        "changed_by": {"id": changed_by[0], "name": who},
        "changed_at": changed_at,
        "farm_id": farm_id,
        "priority": priority(new_status),
        "title": title,
        "message": message,
        "action": action,
        "echo": echo,
    }


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


def encode(event_id: int, event_type: str, data: dict[str, Any]) -> bytes:
    body = _html_safe(msgspec.json.encode({"id": event_id, **data}))
    return b"id: %d\nevent: %s\ndata: %s\n\n" % (event_id, event_type.encode(), body)


def _html_safe(body: bytes) -> bytes:
    for raw, escaped in HTML_SAFE.items():
        body = body.replace(raw, escaped)
    return body


def from_row(row: dict[str, Any]) -> Event:
    data = msgspec.json.decode(row["payload"])
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
