"""Supply and feed lines: blank, filled, before and after a farm is chosen, with errors."""

from typing import Any

from purchasing.domain.statuses import Kind
from purchasing.gallery import samples as s
from purchasing.services.purchase_form import PurchaseForm

STATES: dict[str, dict[str, Any]] = {
    "supply, one blank line": s.lines_context(
        Kind.SUPPLY, PurchaseForm.blank(Kind.SUPPLY, s.TODAY)
    ),
    "supply, two lines": s.lines_context(Kind.SUPPLY, s.filled_form(Kind.SUPPLY)),
    "supply, errors on the lines": s.lines_context(Kind.SUPPLY, s.invalid_form(Kind.SUPPLY)),
    "feed, no farm chosen yet": s.lines_context(Kind.FEED, PurchaseForm.blank(Kind.FEED, s.TODAY)),
    "feed, farm chosen, two lines": s.lines_context(Kind.FEED, s.filled_form(Kind.FEED)),
    "feed, errors on the lines": s.lines_context(Kind.FEED, s.invalid_form(Kind.FEED)),
}
