"""How an edit that met someone else's is put to the clerk: the stale banner's list of what
changed, the messages of a merged save, and each conflicting field's mark (the value stored now,
by name where the form shows a choice, and who set it)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from purchasing.domain.money import format_datetime, parse_int
from purchasing.services.catalog import Catalog, Choice, ItemChoice
from purchasing.services.merge import Clash, Marked

FIELD_LABELS = {
    "invoice_number": "invoice number",
    "do_number": "delivery order number",
    "purchase_date": "date",
    "farm": "farm",
    "coop": "coop",
    "supplier": "supplier",
    "expedition": "expedition",
    "expedition_fee": "expedition fee",
    "notes": "notes",
    "lines": "lines",
}
GIVEN = {"per_head": "per head", "total": "total"}


def changed_fields(fields: tuple[str, ...]) -> str:
    """`supplier, notes and lines`, or '' when nothing the form shows changed."""
    labels = [FIELD_LABELS[name] for name in fields]
    if len(labels) < 2:
        return "".join(labels)
    return ", ".join(labels[:-1]) + " and " + labels[-1]


def conflict_intro(who: str, when: datetime, count: int) -> str:
    fields = "field was" if count == 1 else "fields were"
    return (
        f"{who} saved this purchase at {format_datetime(when)} while you were editing. Nothing "
        f"was saved: {count} {fields} changed by both of you, marked below with what {who} "
        "saved. Your values are kept: save again to use them, or change them."
    )


def merged_notice(who: str, taken: tuple[str, ...]) -> str:
    if not taken:
        return f"Changes saved, together with {who}'s changes made meanwhile."
    return f"Changes saved, together with {who}'s changes to the {changed_fields(taken)}."


def conflict_errors(conflicts: Mapping[str, Marked], catalog: Catalog, who: str) -> dict[str, str]:
    """Each conflict as the message beside its field or line."""
    errors = {}
    for name, mark in conflicts.items():
        if mark.clash is Clash.REMOVED_THERE:
            errors[name] = (
                f"{who} removed this line meanwhile. It stays here and is saved as a new line; "
                "remove it if it should go."
            )
        elif mark.clash is Clash.CHANGED_THERE:
            errors[name] = (
                f"You removed this line, but {who} changed it meanwhile: it is back as {who} "
                "saved it. Remove it again if it should go."
            )
        else:
            stored = stored_label(catalog, name, mark.stored)
            errors[name] = f"{who} saved “{stored}” here. Yours is kept; save to use it."
    return errors


def stored_label(catalog: Catalog, name: str, value: str) -> str:
    """A stored value as the form shows it: a choice by its label, nothing as '(empty)'."""
    field = name.rsplit("-", 1)[-1]
    choices: dict[str, Mapping[int, Choice | ItemChoice]] = {
        "farm": catalog.farms,
        "coop": catalog.coops,
        "flock": catalog.flocks,
        "supplier": catalog.suppliers,
        "expedition": catalog.expeditions,
        "item": catalog.items,
        "unit": catalog.units,
    }
    if not value:
        return "(empty)"
    if field in ("price_given", "weight_given"):
        return GIVEN.get(value, value)
    if field in choices:
        choice = choices[field].get(parse_int(value) or 0)
        return choice.label if choice is not None else value
    return value
