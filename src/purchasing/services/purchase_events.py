"""A purchase's event, as the verb that changes the purchase emits it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from purchasing.domain.actor import Actor
from purchasing.domain.statuses import Kind, Status
from purchasing.live.events import ChangeAction, PurchaseChanged, Who
from purchasing.tables import Partner


async def purchase_changed(
    action: ChangeAction,
    kind: Kind,
    purchase: dict[str, Any],
    old: Status | None,
    new: Status,
    version: int,
    actor: Actor,
    at: datetime,
    echo: str = "",
) -> PurchaseChanged:
    """The event of `action` on `purchase` (its row, or the values it was saved with: id,
    invoice_number, company, farm, supplier)."""
    supplier = await Partner.select(Partner.name).where(Partner.id == purchase["supplier"]).first()
    named = {**purchase, "supplier_name": supplier["name"] if supplier else ""}
    return purchase_event(action, kind, named, old, new, version, actor, at, echo)


def purchase_event(
    action: ChangeAction,
    kind: Kind,
    purchase: dict[str, Any],
    old: Status | None,
    new: Status,
    version: int,
    actor: Actor,
    at: datetime,
    echo: str = "",
) -> PurchaseChanged:
    """The same from a row that names its supplier already (`supplier_name`), with no query:
    a status change reads it in its own transaction."""
    return PurchaseChanged(
        action=action,
        kind=kind,
        purchase_id=purchase["id"],
        invoice_number=purchase["invoice_number"],
        supplier=purchase["supplier_name"],
        company_id=purchase["company"],
        farm_id=purchase["farm"],
        old_status=old,
        new_status=new,
        version=version,
        changed_by=Who(actor.id, actor.full_name),
        changed_at=at,
        echo=echo[:64],
    )
