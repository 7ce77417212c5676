"""Rows in every status of every kind, each role's control, the notices a status change leaves
behind, the longest names and amounts from zero to the most a purchase may total."""

from itertools import count
from typing import Any

from purchasing.domain.roles import Role
from purchasing.domain.statuses import Kind, Status
from purchasing.gallery import samples as s

FRAME = "table"
number = count(1)  # a row id of its own for each state, as in a real table


def row(kind: Kind, status: Status, **options: Any) -> dict[str, Any]:
    return {"kind": kind, "row": s.row(kind, status, number=next(number), **options)}


STATES: dict[str, dict[str, Any]] = {
    f"{kind.value}, {status.label}": row(kind, status) for kind in Kind for status in kind.statuses
}
STATES |= {
    f"supply, Arrived, seen by {role.a_label}": row(Kind.SUPPLY, Status.ARRIVED, role=role)
    for role in Role
}
STATES |= {
    f"livestock, In Coop, seen by {role.a_label}": row(Kind.LIVESTOCK, Status.IN_COOP, role=role)
    for role in (Role.OPERATOR, Role.SUPERVISOR)
}
moved = row(Kind.SUPPLY, Status.PENDING)
STATES["moved: success"] = {
    **moved,
    "notice": s.notice("success", f"{moved['row'].invoice_number} is now Pending."),
}
STATES["sent twice: already done"] = {
    **moved,
    "notice": s.notice("success", f"{moved['row'].invoice_number} is already Pending."),
}
STATES["conflict (409): someone moved it first"] = {
    **row(Kind.FEED, Status.ARRIVED),
    "notice": s.conflict(Status.ARRIVED),
}
STATES["rule error (422): an Operator completing"] = {
    **row(Kind.SUPPLY, Status.ARRIVED, role=Role.OPERATOR),
    "notice": s.rule_error(Kind.SUPPLY, Status.ARRIVED, Status.COMPLETED, Role.OPERATOR, "Lengkap"),
}
STATES["rule error (422): cancelling without a note"] = {
    **row(Kind.LIVESTOCK, Status.ARRIVED, role=Role.SUPERVISOR),
    "notice": s.rule_error(Kind.LIVESTOCK, Status.ARRIVED, Status.CANCELLED, Role.SUPERVISOR, ""),
}
STATES |= {
    f"{kind.value}, longest names in the demo": row(
        kind, Status.CONFIRMED, supplier=s.LONGEST_SUPPLIER, farm=s.LONGEST_FARM
    )
    for kind in (Kind.SUPPLY, Kind.LIVESTOCK)
}
STATES["livestock, longest names and invoice the database allows"] = row(
    Kind.LIVESTOCK,
    Status.IN_TRANSIT,
    supplier=s.LONGEST_ALLOWED_SUPPLIER,
    farm=s.LONGEST_ALLOWED_FARM,
    invoice_number=s.LONGEST_ALLOWED_INVOICE,
)
STATES |= {
    f"supply, amount: {name}": row(Kind.SUPPLY, Status.DRAFT, total=amount)
    for name, amount in s.AMOUNTS.items()
}
STATES["livestock, amount: billions"] = row(
    Kind.LIVESTOCK, Status.CONFIRMED, total=s.AMOUNTS["billions"]
)
