"""The status control as each role sees it: the moves come from the status rules."""

from typing import Any

from purchasing.domain.roles import Role
from purchasing.domain.statuses import Kind, Status
from purchasing.gallery import samples as s


def control(kind: Kind, status: Status, role: Role, number: int) -> dict[str, Any]:
    return {"kind": kind, "row": s.row(kind, status, role=role, number=number)}


STATES: dict[str, dict[str, Any]] = {
    f"supply, Arrived, seen by {role.a_label}": control(Kind.SUPPLY, Status.ARRIVED, role, n)
    for n, role in enumerate(Role, 1)
}
STATES |= {
    "feed, Draft, seen by an Operator (open: many moves)": control(
        Kind.FEED, Status.DRAFT, Role.OPERATOR, 10
    ),
    "livestock, In Coop, seen by an Operator (no move left)": control(
        Kind.LIVESTOCK, Status.IN_COOP, Role.OPERATOR, 11
    ),
    "livestock, In Coop, seen by a Supervisor": control(
        Kind.LIVESTOCK, Status.IN_COOP, Role.SUPERVISOR, 12
    ),
    "supply, Completed (final)": control(Kind.SUPPLY, Status.COMPLETED, Role.MANAGER, 13),
    "on a detail page (a plain form, its note in view)": {
        **control(Kind.SUPPLY, Status.IN_TRANSIT, Role.SUPERVISOR, 14),
        "back": "/purchases/supply/14",
    },
}
