"""What each role may do with each kind of purchase; where, is decided by scope (services/scope)."""

from __future__ import annotations

from enum import StrEnum

from purchasing.domain.roles import Role
from purchasing.domain.statuses import Kind


class Action(StrEnum):
    READ = "read"
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    AUDIT = "audit"  # see the client IP and user agent of each status change

    @property
    def verb(self) -> str:
        return {Action.AUDIT: "see the audit trail of"}.get(self, self.value)


EVERYTHING = frozenset(Action)
CLERK = frozenset({Action.READ, Action.CREATE, Action.UPDATE})

# Status moves are not listed here: every role may make the moves the status rules allow, except
# that completing needs a Supervisor or higher (domain/statuses). Operators receive chicks into
# coops, so they move livestock purchases, but ordering chicks is left to their supervisors.
GRANTS: dict[Role, dict[Kind, frozenset[Action]]] = {
    Role.SUPER_ADMIN: dict.fromkeys(Kind, EVERYTHING),
    Role.ADMINISTRATOR: dict.fromkeys(Kind, EVERYTHING),
    Role.MANAGER: dict.fromkeys(Kind, EVERYTHING),
    Role.SUPERVISOR: dict.fromkeys(Kind, CLERK | {Action.AUDIT}),
    Role.OPERATOR: {Kind.SUPPLY: CLERK, Kind.FEED: CLERK, Kind.LIVESTOCK: frozenset({Action.READ})},
}


class Forbidden(Exception):
    """The role may not do this at all (as opposed to a record out of scope, which is not found)."""


def can(role: Role, action: Action, kind: Kind) -> bool:
    return action in GRANTS[role][kind]


def require(role: Role, action: Action, kind: Kind) -> None:
    """Raise Forbidden unless `role` may `action` purchases of `kind`."""
    if not can(role, action, kind):
        who = role.a_label[0].upper() + role.a_label[1:]
        raise Forbidden(f"{who} may not {action.verb} {kind.value} purchases.")


# Who may watch the live system itself (the monitor page): how many pages are connected and how
# events flow. It shows only the events they may see.
MONITORS = frozenset({Role.SUPER_ADMIN, Role.ADMINISTRATOR})


def require_monitor(role: Role) -> None:
    if role not in MONITORS:
        raise Forbidden("The monitor is for Administrators and SuperAdmins.")
