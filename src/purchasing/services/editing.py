"""Editing a purchase others may be editing too: the form as opened, what changed since, and a
save that merges (services/merge.py) instead of refusing a form opened at an older version."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import msgspec

from purchasing.domain.actor import Actor
from purchasing.domain.money import format_datetime
from purchasing.domain.statuses import Kind, Status, is_editable
from purchasing.i18n import N_
from purchasing.services.changes import Changes
from purchasing.services.errors import Conflict, StaleEdit, ValidationFailed
from purchasing.services.merge import Marked, merge
from purchasing.services.purchase_form import HEADER_FIELDS, LINE_FIELDS, PurchaseForm
from purchasing.services.purchases import (
    GOODS_TABLES,
    created_stamp,
    find_purchase,
    update_purchase,
)
from purchasing.tables import AppUser, LivestockLine

MAX_BASE = 64_000  # characters: a form's base is far smaller; anything longer is not ours
MERGE_ATTEMPTS = 3  # saves that find the purchase changed yet again before giving up


class Base(msgspec.Struct, frozen=True):
    """The purchase as an edit form was opened, carried by the form (a hidden field) so that a
    later save knows what the clerk changed and what others did."""

    values: dict[str, str]
    lines: list[dict[str, str]]

    @classmethod
    def of(cls, form: PurchaseForm) -> Base:
        return cls(values=dict(form.values), lines=[dict(line) for line in form.lines])

    def encode(self) -> str:
        return msgspec.json.encode(self).decode()

    @classmethod
    def decode(cls, text: str) -> Base | None:
        """The base a form sent back; None when it sent none or something else."""
        if not text or len(text) > MAX_BASE:
            return None
        try:
            return msgspec.json.decode(text, type=cls)
        except msgspec.DecodeError:
            return None


@dataclass
class Editing:
    """A purchase as an edit form shows it: the form, its version and status, who last changed
    it when, and its creation stamp (which the form carries to name this purchase)."""

    form: PurchaseForm
    version: int
    status: Status
    changed_by: str
    changed_at: datetime
    created: str

    @property
    def base(self) -> Base:
        return Base.of(self.form)


@dataclass
class Unsaved:
    """A save that needs the clerk: the merged form (their values kept, conflicts and errors
    marked), to be saved against `base` at `version`, as changed by `current`."""

    form: PurchaseForm
    current: Editing
    conflicts: dict[str, Marked] = field(default_factory=dict)

    @property
    def base(self) -> Base:
        return self.current.base

    @property
    def version(self) -> int:
        return self.current.version


@dataclass(frozen=True)
class Saved:
    version: int
    merged_with: Editing | None = None  # someone else's save, merged in
    taken: tuple[str, ...] = ()  # what of theirs the merge took


@dataclass(frozen=True)
class Stale:
    """What changed since a form was opened."""

    current: Editing
    fields: tuple[str, ...]  # header fields, then "lines"

    @property
    def closed(self) -> bool:
        return not is_editable(self.current.status)


async def open_edit(kind: Kind, purchase_id: int, actor: Actor, created: str = "") -> Editing:
    """The stored purchase as an edit form, with its version, status, and its last change;
    NotFound unless it is the purchase a form with `created` was opened on."""
    purchase = await find_purchase(kind, purchase_id, actor, created=created)
    values = {
        "invoice_number": purchase["invoice_number"],
        "do_number": purchase["do_number"],
        "purchase_date": purchase["purchase_date"].isoformat(),
        "farm": str(purchase["farm"]),
        "coop": str(purchase["coop"] or ""),
        "supplier": str(purchase["supplier"]),
        "expedition": str(purchase["expedition"] or ""),
        "expedition_fee": _plain(purchase["expedition_fee"]),
        "notes": purchase["notes"],
    }
    form = PurchaseForm(kind, values=values, lines=await _form_lines(kind, purchase_id))
    who = (
        await AppUser.select(AppUser.full_name).where(AppUser.id == purchase["updated_by"]).first()
    )
    return Editing(
        form=form,
        version=purchase["version"],
        status=Status(purchase["status"]),
        changed_by=who["full_name"] if who else "",
        changed_at=purchase["updated_at"],
        created=created_stamp(purchase["created_at"]),
    )


async def what_changed(
    kind: Kind, purchase_id: int, actor: Actor, base: Base, version: int, created: str = ""
) -> Stale | None:
    """None while the purchase is still at `version`; else who changed what since `base`.
    NotFound when it is gone (or another purchase has its id: `created`)."""
    current = await open_edit(kind, purchase_id, actor, created)
    if current.version == version:
        return None
    fields = [
        name for name in HEADER_FIELDS if base.values.get(name, "") != current.form.value(name)
    ]
    if _lines_differ(kind, base.lines, current.form.lines):
        fields.append("lines")
    return Stale(current, tuple(fields))


async def save_edit(
    changes: Changes,
    form: PurchaseForm,
    base: Base | None,
    purchase_id: int,
    version: int,
    actor: Actor,
    created: str = "",
) -> Saved | Unsaved:
    """Save the form; when someone saved the purchase after the form was opened, merge their
    save with the clerk's (three-way, against `base`) and save that, unless the merge needs
    the clerk (a conflict, or an error only the merged form has).

    Raises Conflict when the purchase can no longer be edited (or the form carries no base to
    merge against), NotFound when it is gone or another purchase has its id (the form was
    opened on the one `created` names), ValidationFailed for the clerk's own errors."""
    merged_with: Editing | None = None
    taken: tuple[str, ...] = ()
    for _ in range(MERGE_ATTEMPTS):
        try:
            saved = await update_purchase(changes, form, purchase_id, version, actor, created)
        except StaleEdit:
            if base is None:
                raise
        except ValidationFailed:
            if merged_with is None:
                raise
            return Unsaved(form, merged_with)
        else:
            return Saved(saved, merged_with, taken)
        current = await open_edit(form.kind, purchase_id, actor, created)
        if not is_editable(current.status):
            raise Conflict(
                N_(
                    "%(name)s moved this purchase to %(status)s at %(when)s: "
                    "it can no longer be edited."
                ),
                name=current.changed_by,
                status=current.status,
                when=format_datetime(current.changed_at),
            )
        kind = form.kind
        result = merge(
            HEADER_FIELDS,
            LINE_FIELDS[kind],
            (base.values, base.lines),
            (current.form.values, current.form.lines),
            (form.values, form.lines),
        )
        form = PurchaseForm(kind, values=result.values, lines=result.lines)
        if result.conflicts:
            return Unsaved(form, current, result.conflicts)
        base, version, merged_with = current.base, current.version, current
        taken = tuple(dict.fromkeys((*taken, *result.taken)))
    raise Conflict(N_("This purchase keeps changing while you save; try again in a moment."))


def _lines_differ(kind: Kind, a: list[dict[str, str]], b: list[dict[str, str]]) -> bool:
    names = (*LINE_FIELDS[kind], "id")
    return [[line.get(n, "") for n in names] for line in a] != [
        [line.get(n, "") for n in names] for line in b
    ]


async def _form_lines(kind: Kind, purchase_id: int) -> list[dict[str, str]]:
    if kind is Kind.LIVESTOCK:
        rows = await (
            LivestockLine.select()
            .where(LivestockLine.purchase == purchase_id)
            .order_by(LivestockLine.position)
        )
        return [{"id": str(r["id"]), **_livestock_values(r)} for r in rows]
    table = GOODS_TABLES[kind]
    lines = []
    for r in await table.select().where(table.purchase == purchase_id).order_by(table.position):
        line = {
            "id": str(r["id"]),
            "item": str(r["item"]),
            "unit": str(r["unit"]),
            "quantity": _plain(r["quantity"]),
            "price": _plain(r["price_per_unit"]),
        }
        if kind is Kind.FEED:
            line["flock"] = str(r["flock"])
        lines.append(line)
    return lines


def _livestock_values(r: dict[str, Any]) -> dict[str, str]:
    per_head_price = r["price_given"] == "per_head"
    per_head_weight = r["weight_given"] == "per_head"
    return {
        "strain": r["strain"],
        "head_count": str(r["head_count"]),
        "price_given": r["price_given"],
        "price": _plain(r["price_per_head"] if per_head_price else r["price_total"]),
        "weight_given": r["weight_given"],
        "weight": _plain(r["weight_per_head_g"] if per_head_weight else r["weight_total_g"]),
        "tax_percent": _plain(r["tax_percent"]),
    }


def _plain(value: Any) -> str:
    """A stored number as a number field shows it: no trailing zeros, no exponent."""
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text
