"""An event payload shaped like the app's own (same keys, similar size), for the floor and the
peer, so all three servers push frames of about the same length."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

EVENT_TYPE = "supply_purchase_status_changed"


def now_iso() -> str:
    return datetime.now(UTC).isoformat()


def event_payload(event_id: int, changed_at: str) -> dict[str, Any]:
    return {
        "id": event_id,
        "type": EVENT_TYPE,
        "kind": "supply",
        "purchase_id": 12,
        "invoice_number": "INV/2026/11/0012",
        "supplier": "PT Charoen Pokphand Indonesia Tbk",
        "old_status": "pending",
        "new_status": "confirmed",
        "version": event_id + 1,
        "changed_by": {"id": 4, "name": "Supervisor"},
        "changed_at": changed_at,
        "farm_id": 2,
        "priority": "normal",
        "title": "Supply purchase confirmed",
        "message": "INV/2026/11/0012 (PT Charoen Pokphand Indonesia Tbk): Pending → Confirmed "
        "by Supervisor.",
        "action": "status",
        "echo": "",
    }
