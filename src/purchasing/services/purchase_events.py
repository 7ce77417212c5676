"""Writing a purchase's event into the outbox, inside the transaction of the change."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from purchasing.domain.actor import Actor
from purchasing.domain.statuses import Kind, Status
from purchasing.live import events, outbox
from purchasing.tables import Partner


async def write_event(
    kind: Kind,
    purchase: dict[str, Any],
    old: Status | None,
    new: Status,
    version: int,
    actor: Actor,
    at: datetime,
    echo: str = "",
    *,
    deleted: bool = False,
) -> outbox.Row:
    """The `{kind}_purchase_status_changed` row: `old` is None for a new purchase, equal to `new`
    for an edit or a deletion."""
    supplier = await Partner.select(Partner.name).where(Partner.id == purchase["supplier"]).first()
    data = events.payload(
        kind=kind,
        purchase_id=purchase["id"],
        invoice_number=purchase["invoice_number"],
        old_status=old,
        new_status=new,
        version=version,
        changed_by=(actor.id, actor.full_name),
        changed_at=at.isoformat(),
        farm_id=purchase["farm"],
        echo=echo[:64],
        supplier=supplier["name"] if supplier else "",
        deleted=deleted,
    )
    return await outbox.write(
        kind.event_type, kind.value, purchase["id"], purchase["company"], purchase["farm"], data
    )
