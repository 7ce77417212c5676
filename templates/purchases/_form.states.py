"""The purchase form of each kind: new, being edited, refused by the validation, and the
messages an edit can meet (someone saved first, the purchase moved on)."""

from typing import Any

from purchasing.domain.statuses import Kind, Status
from purchasing.gallery import samples as s
from purchasing.gallery.samples_detail import CLERK
from purchasing.presentation import edits
from purchasing.services.editing import Base
from purchasing.services.merge import Clash, Marked
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

# A save that met someone else's: the merge's conflicts, marked as the clerk sees them.
clashed = s.filled_form(Kind.SUPPLY, lines=3)
conflicts = {
    "notes": Marked(Clash.BOTH_CHANGED, "Kirim sore, gerbang belakang"),
    "supplier": Marked(Clash.BOTH_CHANGED, "3"),
    "lines-0-quantity": Marked(Clash.BOTH_CHANGED, "30"),
    "lines-1": Marked(Clash.REMOVED_THERE),
    "lines-2": Marked(Clash.CHANGED_THERE),
}
clashed.errors.update(edits.conflict_errors(conflicts, s.catalog(Kind.SUPPLY), CLERK))
clashed.errors["form"] = edits.conflict_intro(CLERK, s.NOW, len(conflicts))
STATES["supply, merged with someone else's save: conflicts marked (409)"] = {
    **s.form_context(Kind.SUPPLY, clashed, 7, 4),
    "base": Base.of(s.filled_form(Kind.SUPPLY, lines=3)).encode(),
}
closed = s.filled_form(Kind.LIVESTOCK)
closed.errors["form"] = (
    f"{CLERK} moved this purchase to {Status.ARRIVED.label} at 20-11-2026 14:05 WIB: it can no "
    "longer be edited. Nothing was saved; what you typed is still below, to copy."
)
STATES["livestock, closed by someone else while being edited"] = s.form_context(
    Kind.LIVESTOCK, closed, 9, 5
)
