"""The banner above an edit form when someone else changed the purchase meanwhile."""

from typing import Any

from purchasing.domain.statuses import Kind, Status
from purchasing.gallery import samples as s
from purchasing.gallery.samples_detail import CLERK, deleted
from purchasing.services.editing import Editing, Stale
from purchasing.services.purchases import created_stamp


def stale(status: Status, *fields: str) -> dict[str, Any]:
    current = Editing(s.filled_form(Kind.SUPPLY), 4, status, CLERK, s.NOW, created_stamp(s.NOW))
    return {"stale": Stale(current, fields), "gone": None}


STATES: dict[str, dict[str, Any]] = {
    "nobody changed it (hidden)": {"stale": None, "gone": None},
    "edited: supplier and lines": stale(Status.DRAFT, "supplier", "lines"),
    "edited: every field": stale(
        Status.PENDING,
        "invoice_number",
        "do_number",
        "purchase_date",
        "farm",
        "supplier",
        "expedition",
        "expedition_fee",
        "notes",
        "lines",
    ),
    "moved on, still open (status only)": stale(Status.CONFIRMED),
    "moved to Arrived: closed for editing": stale(Status.ARRIVED),
    "deleted meanwhile": {"stale": None, "gone": deleted(Kind.SUPPLY)},
}
