"""Each error a swap can meet, worded as the app words it."""

from typing import Any

from purchasing.domain.permissions import Action
from purchasing.domain.roles import Role
from purchasing.domain.statuses import Kind
from purchasing.gallery import samples as s
from purchasing.presentation.errors import EXPIRED_FORM, NOT_FOUND

REFERENCE = "3f9a0c6d21e4b857"

STATES: dict[str, dict[str, Any]] = {
    "400 a table view that cannot be meant": s.error(
        400, s.bad_request(Kind.SUPPLY, {"sort": "heads", "per_page": "1000"})
    ),
    "403 not for this role": s.error(
        403, s.forbidden(Role.OPERATOR, Action.CREATE, Kind.LIVESTOCK)
    ),
    "403 expired form": s.error(403, EXPIRED_FORM),
    "404 not found (or not yours to see)": s.error(404, NOT_FOUND),
    "409 changed meanwhile": s.error(
        409, "Someone changed this purchase meanwhile; check it before deleting."
    ),
    "500 unexpected, with its reference": s.error(
        500,
        f"Something went wrong. If it happens again, quote reference {REFERENCE}.",
        REFERENCE,
    ),
}
