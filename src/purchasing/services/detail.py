"""One purchase with its names resolved, its lines and its status history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import msgspec

from purchasing.domain.actor import Actor
from purchasing.domain.permissions import Action, can, require
from purchasing.domain.roles import Role
from purchasing.domain.statuses import Kind, Status, is_deletable, is_editable, offered_moves
from purchasing.i18n import N_
from purchasing.live.events import ChangeAction, PurchaseChanged
from purchasing.services.errors import NotFound
from purchasing.services.listing import Row
from purchasing.services.purchases import GOODS_TABLES, MAX_ID, created_stamp, find_purchase
from purchasing.services.scope import purchase_filter
from purchasing.tables import FeedLine, LivestockLine, OutboxEvent, Purchase, StatusHistory


@dataclass(frozen=True)
class Detail:
    kind: Kind
    purchase: dict[str, Any]
    lines: list[dict[str, Any]]
    history: list[dict[str, Any]]
    moves: tuple[Status, ...]
    role: Role  # the viewer's

    @property
    def status(self) -> Status:
        return Status(self.purchase["status"])

    @property
    def can_edit(self) -> bool:
        return is_editable(self.status) and can(self.role, Action.UPDATE, self.kind)

    @property
    def can_delete(self) -> bool:
        return is_deletable(self.status) and can(self.role, Action.DELETE, self.kind)

    @property
    def can_audit(self) -> bool:
        """Whether the history shows where each change came from."""
        return can(self.role, Action.AUDIT, self.kind)

    @property
    def created(self) -> str:
        """Its creation stamp, which its forms carry to name this purchase."""
        return created_stamp(self.purchase["created_at"])

    @property
    def row(self) -> Row:
        """The purchase as a table shows it, for the same status control."""
        p = self.purchase
        return Row(
            number=0,
            id=p["id"],
            invoice_number=p["invoice_number"],
            purchase_date=p["purchase_date"],
            supplier=p["supplier_name"],
            farm=p["farm_name"],
            coop=p["coop_name"] or "",
            status=self.status,
            version=p["version"],
            grand_total=p["grand_total"],
            head_count=p["head_count"],
            price_per_head=Decimal(0),
            moves=self.moves,
            created=self.created,
        )


async def purchase_detail(kind: Kind, purchase_id: int, actor: Actor) -> Detail:
    await find_purchase(kind, purchase_id, actor)
    purchase = (
        await Purchase.select(
            *Purchase.all_columns(),
            Purchase.farm._.name.as_alias("farm_name"),
            Purchase.farm._.code.as_alias("farm_code"),
            Purchase.coop._.name.as_alias("coop_name"),
            Purchase.supplier._.name.as_alias("supplier_name"),
            Purchase.expedition._.name.as_alias("expedition_name"),
            Purchase.created_by._.full_name.as_alias("created_by_name"),
            Purchase.updated_by._.full_name.as_alias("updated_by_name"),
        )
        .where(Purchase.id == purchase_id)
        .first()
    )
    if purchase is None:
        raise NotFound(N_("No %(kind)s purchase %(id)s."), kind=kind, id=purchase_id)
    history = (
        await StatusHistory.select(
            *StatusHistory.all_columns(),
            StatusHistory.changed_by._.full_name.as_alias("changed_by_name"),
        )
        .where(StatusHistory.purchase == purchase_id)
        .order_by(StatusHistory.id)
    )
    return Detail(
        kind=kind,
        purchase=purchase,
        lines=await _lines(kind, purchase_id),
        history=history,
        moves=tuple(offered_moves(kind, Status(purchase["status"]), actor.role)),
        role=actor.role,
    )


@dataclass(frozen=True)
class Deleted:
    """A purchase that is gone: who deleted it and when, as its last event says."""

    kind: Kind
    purchase_id: int
    invoice_number: str
    deleted_by: str
    deleted_at: datetime


async def deleted_purchase(kind: Kind, purchase_id: int, actor: Actor) -> Deleted | None:
    """The latest deletion of a purchase of that id the actor could see, while the outbox still
    holds its event; None when there is none or the actor may not know of it. Asked when no
    purchase the actor may see has the id, or when the one that has it now is not the one a
    form was opened on."""
    require(actor.role, Action.READ, kind)
    if not 0 < purchase_id <= MAX_ID:
        return None
    where = (OutboxEvent.purchase == purchase_id) & (OutboxEvent.kind == kind.value)
    clause = purchase_filter(actor, OutboxEvent)
    if clause is not None:
        where = where & clause
    rows = (
        await OutboxEvent.select(OutboxEvent.payload)
        .where(where)
        .order_by(OutboxEvent.id, ascending=False)
    )
    for row in rows:
        change = _change(row["payload"])
        if change is not None and change.action is ChangeAction.DELETED:
            return Deleted(
                kind, purchase_id, change.invoice_number, change.changed_by.name, change.changed_at
            )
    return None


def _change(payload: str) -> PurchaseChanged | None:
    try:
        return msgspec.json.decode(payload, type=PurchaseChanged)
    except msgspec.ValidationError:
        return None


async def _lines(kind: Kind, purchase_id: int) -> list[dict[str, Any]]:
    if kind is Kind.LIVESTOCK:
        return await (
            LivestockLine.select()
            .where(LivestockLine.purchase == purchase_id)
            .order_by(LivestockLine.position)
        )
    table = GOODS_TABLES[kind]
    columns: list[Any] = [
        *table.all_columns(),
        table.item._.name.as_alias("item_name"),
        table.unit._.code.as_alias("unit_code"),
        table.converted_unit._.code.as_alias("converted_unit_code"),
    ]
    if kind is Kind.FEED:
        columns += [
            FeedLine.flock._.name.as_alias("flock_name"),
            FeedLine.flock._.coop._.name.as_alias("coop_name"),
        ]
    return (
        await table.select(*columns).where(table.purchase == purchase_id).order_by(table.position)
    )
