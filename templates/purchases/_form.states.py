"""The purchase form of each kind: new, being edited, refused by the validation, and the
messages an edit can meet (someone saved first, the purchase moved on)."""

from typing import Any

from purchasing.domain.statuses import Kind, Status
from purchasing.gallery import samples as s
from purchasing.services.purchase_form import PurchaseForm

STATES: dict[str, dict[str, Any]] = {}
for kind in Kind:
    STATES[f"{kind.value}, new"] = s.form_context(kind, PurchaseForm.blank(kind, s.TODAY))
    STATES[f"{kind.value}, edit"] = s.form_context(kind, s.filled_form(kind), 7, 3)
    STATES[f"{kind.value}, validation errors"] = s.form_context(kind, s.invalid_form(kind))

changed = s.filled_form(Kind.SUPPLY)
changed.errors["form"] = (
    "Someone changed this purchase while you were editing it. "
    "Reload the page to see the current purchase."
)
STATES["supply, edit saved after someone else (409)"] = s.form_context(Kind.SUPPLY, changed, 7, 3)
moved_on = s.filled_form(Kind.FEED)
moved_on.errors["form"] = f"A purchase that is {Status.COMPLETED.label} can no longer be edited."
STATES["feed, edit of a completed purchase"] = s.form_context(Kind.FEED, moved_on, 8, 5)
STATES["livestock, three strains (no more lines)"] = s.form_context(
    Kind.LIVESTOCK, s.filled_form(Kind.LIVESTOCK, lines=3), 9, 2
)
