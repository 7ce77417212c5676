"""What each role may do with each kind of purchase; where, is decided by scope (services/scope)."""

from __future__ import annotations

from enum import StrEnum

from purchasing.domain.roles import ROLE_LABELS, Role
from purchasing.domain.statuses import Kind
from purchasing.domain.worded import Worded
from purchasing.i18n import N_


class Action(StrEnum):
    READ = "read"
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    AUDIT = "audit"  # see the client IP and user agent of each status change


EVERYTHING = frozenset(Action)
CLERK = frozenset({Action.READ, Action.CREATE, Action.UPDATE})

# Status moves are not listed here: every role may make the moves the status rules allow, except
# that completing needs a Supervisor or higher, and on a livestock purchase an Operator may only
# record the chicks arriving and going into the coop (domain/statuses).
GRANTS: dict[Role, dict[Kind, frozenset[Action]]] = {
    Role.SUPER_ADMIN: dict.fromkeys(Kind, EVERYTHING),
    Role.ADMINISTRATOR: dict.fromkeys(Kind, EVERYTHING),
    Role.MANAGER: dict.fromkeys(Kind, EVERYTHING),
    Role.SUPERVISOR: dict.fromkeys(Kind, CLERK | {Action.AUDIT}),
    Role.OPERATOR: {Kind.SUPPLY: CLERK, Kind.FEED: CLERK, Kind.LIVESTOCK: frozenset({Action.READ})},
}


# Why a role may not `action` a kind's purchases, a whole sentence each. English names the role
# with its article ("An Operator", "A Manager"), so each comes twice: with "A", with "An".
REFUSALS: dict[Action, tuple[str, str]] = {
    Action.READ: (
        N_("A %(role)s may not read %(kind)s purchases."),
        N_("An %(role)s may not read %(kind)s purchases."),
    ),
    Action.CREATE: (
        N_("A %(role)s may not create %(kind)s purchases."),
        N_("An %(role)s may not create %(kind)s purchases."),
    ),
    Action.UPDATE: (
        N_("A %(role)s may not update %(kind)s purchases."),
        N_("An %(role)s may not update %(kind)s purchases."),
    ),
    Action.DELETE: (
        N_("A %(role)s may not delete %(kind)s purchases."),
        N_("An %(role)s may not delete %(kind)s purchases."),
    ),
    Action.AUDIT: (
        N_("A %(role)s may not see the audit trail of %(kind)s purchases."),
        N_("An %(role)s may not see the audit trail of %(kind)s purchases."),
    ),
}


class Forbidden(Worded):
    """The role may not do this at all (as opposed to a record out of scope, which is not found);
    the message, its reason, is worded when read (domain/worded)."""


def can(role: Role, action: Action, kind: Kind) -> bool:
    return action in GRANTS[role][kind]


def require(role: Role, action: Action, kind: Kind) -> None:
    """Raise Forbidden unless `role` may `action` purchases of `kind`."""
    if not can(role, action, kind):
        with_a, with_an = REFUSALS[action]
        message = with_an if ROLE_LABELS[role][0] in "AEIOU" else with_a
        raise Forbidden(message, role=role, kind=kind)


# Who may watch the live system itself (the monitor page): how many pages are connected and how
# events flow. It shows only the events they may see.
MONITORS = frozenset({Role.SUPER_ADMIN, Role.ADMINISTRATOR})


def require_monitor(role: Role) -> None:
    if role not in MONITORS:
        raise Forbidden(N_("The monitor is for Administrators and SuperAdmins."))
