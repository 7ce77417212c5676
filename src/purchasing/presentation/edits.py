"""How an edit that met someone else's is put to the clerk: the stale banner's list of what
changed, the messages of a merged save, and each conflicting field's mark (the value stored now,
by name where the form shows a choice, and who set it)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from purchasing.domain.money import format_datetime, parse_int
from purchasing.i18n import N_, _, ngettext
from purchasing.services.catalog import Catalog, Choice, ItemChoice
from purchasing.services.merge import Clash, Marked

# Marked here, translated where shown (`_(FIELD_LABELS[name])`).
FIELD_LABELS = {
    "invoice_number": N_("invoice number"),
    "do_number": N_("delivery order number"),
    "purchase_date": N_("date"),
    "farm": N_("farm"),
    "coop": N_("coop"),
    "supplier": N_("supplier"),
    "expedition": N_("expedition"),
    "expedition_fee": N_("expedition fee"),
    "notes": N_("notes"),
    "lines": N_("lines"),
}
GIVEN = {"per_head": N_("per head"), "total": N_("total")}


def changed_fields(fields: tuple[str, ...]) -> str:
    """`supplier, notes and lines`, or '' when nothing the form shows changed."""
    labels = [_(FIELD_LABELS[name]) for name in fields]
    if len(labels) < 2:
        return "".join(labels)
    return _("%(first)s and %(last)s", first=", ".join(labels[:-1]), last=labels[-1])


def conflict_intro(who: str, when: datetime, count: int) -> str:
    return ngettext(
        "%(who)s saved this purchase at %(when)s while you were editing. Nothing was saved: "
        "%(num)d field was changed by both of you, marked below with what %(who)s saved. "
        "Your values are kept: save again to use them, or change them.",
        "%(who)s saved this purchase at %(when)s while you were editing. Nothing was saved: "
        "%(num)d fields were changed by both of you, marked below with what %(who)s saved. "
        "Your values are kept: save again to use them, or change them.",
        count,
        who=who,
        when=format_datetime(when),
    )


def merged_notice(who: str, taken: tuple[str, ...]) -> str:
    if not taken:
        return _("Changes saved, together with %(name)s's changes made meanwhile.", name=who)
    return _(
        "Changes saved, together with %(name)s's changes to the %(fields)s.",
        name=who,
        fields=changed_fields(taken),
    )


def conflict_errors(conflicts: Mapping[str, Marked], catalog: Catalog, who: str) -> dict[str, str]:
    """Each conflict as the message beside its field or line."""
    errors = {}
    for name, mark in conflicts.items():
        if mark.clash is Clash.REMOVED_THERE:
            errors[name] = _(
                "%(name)s removed this line meanwhile. It stays here and is saved as a new line; "
                "remove it if it should go.",
                name=who,
            )
        elif mark.clash is Clash.CHANGED_THERE:
            errors[name] = _(
                "You removed this line, but %(name)s changed it meanwhile: it is back as "
                "%(name)s saved it. Remove it again if it should go.",
                name=who,
            )
        else:
            stored = stored_label(catalog, name, mark.stored)
            errors[name] = _(
                "%(name)s saved “%(value)s” here. Yours is kept; save to use it.",
                name=who,
                value=stored,
            )
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
        return _("(empty)")
    if field in ("price_given", "weight_given"):
        return _(GIVEN[value]) if value in GIVEN else value
    if field in choices:
        choice = choices[field].get(parse_int(value) or 0)
        return choice.label if choice is not None else value
    return value
