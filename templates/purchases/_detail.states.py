"""A purchase's live part: open and final, each kind, as each role that sees it differently."""

from typing import Any

from purchasing.domain.roles import Role
from purchasing.domain.statuses import Kind, Status
from purchasing.gallery.samples_detail import detail


def state(kind: Kind, status: Status, role: Role = Role.MANAGER, **options: Any) -> dict[str, Any]:
    return {"kind": kind, "detail": detail(kind, status, role, **options)}


STATES: dict[str, dict[str, Any]] = {
    "supply, Draft, seen by a Manager (edit, delete, moves)": state(Kind.SUPPLY, Status.DRAFT),
    "feed, In Transit, seen by a Supervisor": state(Kind.FEED, Status.IN_TRANSIT, Role.SUPERVISOR),
    "livestock, Arrived, seen by an Operator": state(Kind.LIVESTOCK, Status.ARRIVED, Role.OPERATOR),
    "livestock, Completed (final: no moves)": state(Kind.LIVESTOCK, Status.COMPLETED),
    "supply, one line, seen by an Administrator (history with addresses)": state(
        Kind.SUPPLY, Status.CONFIRMED, Role.ADMINISTRATOR, lines=1
    ),
}
