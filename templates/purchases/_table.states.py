"""Tables empty, filtered to nothing, full, sorted and paged, for each kind's columns."""

from typing import Any

from purchasing.domain.statuses import Kind
from purchasing.gallery import samples as s
from purchasing.services.listing import TableQuery

STATES: dict[str, dict[str, Any]] = {
    "supply, empty (no purchases yet)": {"kind": Kind.SUPPLY, "page": s.table(Kind.SUPPLY, 0)},
    "feed, filtered with no match": {
        "kind": Kind.FEED,
        "page": s.table(Kind.FEED, 0, TableQuery(q="Kandang 9", status="arrived")),
    },
    "supply, a few rows (one page, no pager)": {
        "kind": Kind.SUPPLY,
        "page": s.table(Kind.SUPPLY, 4),
    },
    "supply, full first page of 45": {"kind": Kind.SUPPLY, "page": s.table(Kind.SUPPLY, 45)},
    "feed, 25 a page, sorted by total ascending": {
        "kind": Kind.FEED,
        "page": s.table(Kind.FEED, 45, TableQuery(per_page=25, sort="total", direction="asc")),
    },
    "livestock, page 3 of 14": {
        "kind": Kind.LIVESTOCK,
        "page": s.table(Kind.LIVESTOCK, 137, TableQuery(page=3)),
    },
    "livestock, last page, sorted by status": {
        "kind": Kind.LIVESTOCK,
        "page": s.table(Kind.LIVESTOCK, 137, TableQuery(page=14, sort="status")),
    },
}
