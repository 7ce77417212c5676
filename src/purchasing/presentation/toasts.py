"""How a change is worded for people: the title and message of its toast.

Each event is encoded once for every reader, so it carries fields, not words: a page words its
toasts itself, in its reader's language, from `patterns()` (given to the page by
`presentation/words.py`) and the event's fields, as `wording` does here. The title and message
the event contract also carries are worded in English, the contract's language."""

from __future__ import annotations

from functools import cache
from typing import Any

from purchasing import i18n
from purchasing.domain.statuses import Kind
from purchasing.i18n import N_, _
from purchasing.live.events import ChangeAction, PurchaseChanged

PURCHASE_NOUNS = {
    Kind.SUPPLY: N_("supply purchase"),
    Kind.FEED: N_("feed purchase"),
    Kind.LIVESTOCK: N_("livestock purchase"),
}
PURCHASE_TITLES = {
    Kind.SUPPLY: N_("Supply purchase"),
    Kind.FEED: N_("Feed purchase"),
    Kind.LIVESTOCK: N_("Livestock purchase"),
}


def patterns() -> dict[str, Any]:
    """Each action's title and message in the current language, with `%(name)s` places for:
    purchase and purchase_title (the kind's purchase, in a sentence and at its start), subject
    (the purchase: `subject` worded), old and new (statuses), new_lower, and who."""
    return {
        ChangeAction.CREATED: {
            "title": _("New %(purchase)s"),
            "message": _("%(subject)s was created as %(new)s by %(who)s."),
        },
        ChangeAction.EDITED: {
            "title": _("%(purchase_title)s edited"),
            "message": _("%(subject)s: details edited by %(who)s."),
        },
        ChangeAction.DELETED: {
            "title": _("%(purchase_title)s deleted"),
            "message": _("%(subject)s was deleted by %(who)s."),
        },
        ChangeAction.STATUS_CHANGED: {
            "title": _("%(purchase_title)s %(new_lower)s"),
            "message": _("%(subject)s: %(old)s → %(new)s by %(who)s."),
        },
        # The purchase in a message: its invoice number and supplier.
        "subject": _("%(invoice)s (%(supplier)s)"),
        "purchases": {kind.value: _(noun) for kind, noun in PURCHASE_NOUNS.items()},
        "purchase_titles": {kind.value: _(title) for kind, title in PURCHASE_TITLES.items()},
    }


@cache
def _source_patterns() -> dict[str, Any]:
    """`patterns()` in English, made once: the hub words every event with them."""
    with i18n.use(i18n.SOURCE):
        return patterns()


def wording(change: PurchaseChanged) -> tuple[str, str]:
    """`change`'s toast in English: a title, and a message saying what happened to which
    purchase and who did it."""
    with i18n.use(i18n.SOURCE):
        words = _source_patterns()
        new = change.new_status.label
        values = {
            "purchase": words["purchases"][change.kind],
            "purchase_title": words["purchase_titles"][change.kind],
            "invoice": change.invoice_number,
            "supplier": change.supplier,
            "old": change.old_status.label if change.old_status else "",
            "new": new,
            "new_lower": new.lower(),
            "who": change.changed_by.name,
        }
        values["subject"] = words["subject"] % values if change.supplier else change.invoice_number
        action = words[change.action]
        return action["title"] % values, action["message"] % values
