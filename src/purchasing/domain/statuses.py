"""Purchase kinds, statuses and the moves between them (BRIEF section 2)."""

from __future__ import annotations

from enum import StrEnum

from purchasing.domain.roles import Role
from purchasing.domain.worded import Worded
from purchasing.i18n import N_, _


class Kind(StrEnum):
    SUPPLY = "supply"
    FEED = "feed"
    LIVESTOCK = "livestock"

    @property
    def label(self) -> str:
        return _(KIND_LABELS[self])

    @property
    def noun(self) -> str:
        """The kind inside a sentence, as in "a supply purchase"."""
        return _(KIND_NOUNS[self])

    @property
    def in_words(self) -> str:
        """The kind inside a sentence (domain/worded): its noun."""
        return self.noun

    @property
    def event_type(self) -> str:
        return f"{self.value}_purchase_status_changed"

    @property
    def statuses(self) -> tuple[Status, ...]:
        if self is Kind.LIVESTOCK:
            return tuple(Status)
        return tuple(s for s in Status if s is not Status.IN_COOP)


class Status(StrEnum):
    DRAFT = "draft"
    PENDING = "pending"
    CONFIRMED = "confirmed"
    IN_TRANSIT = "in_transit"
    ARRIVED = "arrived"
    IN_COOP = "in_coop"
    COMPLETED = "completed"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return _(STATUS_LABELS[self])

    @property
    def in_words(self) -> str:
        """The status inside a sentence (domain/worded): its label."""
        return self.label

    @property
    def is_final(self) -> bool:
        return self in FINAL

    @property
    def needs_note(self) -> bool:
        return self in NEEDS_NOTE


# Marked here, translated where shown (`Kind.label`, `Status.label`).
KIND_LABELS = {
    Kind.SUPPLY: N_("Supply (OVK)"),
    Kind.FEED: N_("Feed (Pakan)"),
    Kind.LIVESTOCK: N_("Livestock (DOC)"),
}
KIND_NOUNS = {Kind.SUPPLY: N_("supply"), Kind.FEED: N_("feed"), Kind.LIVESTOCK: N_("livestock")}
STATUS_LABELS = {
    Status.DRAFT: N_("Draft"),
    Status.PENDING: N_("Pending"),
    Status.CONFIRMED: N_("Confirmed"),
    Status.IN_TRANSIT: N_("In Transit"),
    Status.ARRIVED: N_("Arrived"),
    Status.IN_COOP: N_("In Coop"),
    Status.COMPLETED: N_("Completed"),
    Status.CANCELLED: N_("Cancelled"),
}
OPEN = frozenset({Status.DRAFT, Status.PENDING, Status.CONFIRMED, Status.IN_TRANSIT})
FINAL = frozenset({Status.COMPLETED, Status.CANCELLED})
NEEDS_NOTE = FINAL
NEEDS_SUPERVISOR = frozenset({Status.COMPLETED})
AFTER_ARRIVED = {
    Kind.SUPPLY: frozenset({Status.COMPLETED, Status.CANCELLED}),
    Kind.FEED: frozenset({Status.COMPLETED}),
    Kind.LIVESTOCK: frozenset({Status.IN_COOP, Status.CANCELLED}),
}
AFTER_IN_COOP = {Kind.LIVESTOCK: frozenset({Status.COMPLETED})}
# Operators receive chicks: on a livestock purchase they record its arrival and its move into the
# coop. Ordering, confirming, cancelling and every other livestock move are a Supervisor's.
RECEIVING = frozenset({(Status.IN_TRANSIT, Status.ARRIVED), (Status.ARRIVED, Status.IN_COOP)})
MAX_NOTE_LENGTH = 2000


class RuleError(Worded):
    """A status move the rules forbid; the message is for the clerk (worded when read: a move is
    checked on SQLite's writer thread, services/status.Move)."""


def is_editable(status: Status) -> bool:
    """A purchase's details and lines can still change: it has not arrived, nor ended."""
    return status in OPEN


def is_deletable(status: Status) -> bool:
    """Only a draft can be deleted; an ordered purchase is cancelled instead."""
    return status is Status.DRAFT


def next_statuses(kind: Kind, current: Status) -> frozenset[Status]:
    """Every status the rules allow after `current`, whoever asks."""
    if current in OPEN:
        return (OPEN | {Status.ARRIVED, Status.CANCELLED}) - {current}
    if current is Status.ARRIVED:
        return AFTER_ARRIVED[kind]
    if current is Status.IN_COOP:
        return AFTER_IN_COOP.get(kind, frozenset())
    return frozenset()


def offered_moves(kind: Kind, current: Status, role: Role) -> list[Status]:
    """The moves to show this role, in workflow order."""
    allowed = next_statuses(kind, current)
    return [s for s in kind.statuses if s in allowed and _role_may(role, kind, current, s)]


def check_move(kind: Kind, current: Status, target: Status, role: Role, notes: str) -> None:
    """Raise RuleError unless `role` may move a `kind` purchase from `current` to `target`."""
    if target not in kind.statuses:
        raise RuleError(
            N_("%(status)s is not a status of %(kind)s purchases."), status=target, kind=kind
        )
    if target is current:
        raise RuleError(N_("The purchase is already %(status)s."), status=current)
    if current.is_final:
        raise RuleError(N_("%(status)s is final: the status can no longer change."), status=current)
    if target not in next_statuses(kind, current):
        raise RuleError(
            N_("A %(kind)s purchase cannot go from %(current)s to %(target)s."),
            kind=kind,
            current=current,
            target=target,
        )
    if not _role_may(role, kind, current, target):
        if kind is Kind.LIVESTOCK and role is Role.OPERATOR:
            raise RuleError(
                N_(
                    "An Operator may only record chicks arriving and going into the coop; "
                    "%(status)s needs a Supervisor or higher."
                ),
                status=target,
            )
        raise RuleError(N_("Only a Supervisor or higher may set %(status)s."), status=target)
    if target.needs_note and not notes.strip():
        raise RuleError(N_("A note is required to set %(status)s."), status=target)
    check_note(notes)


def check_note(notes: str) -> None:
    """Raise RuleError unless `notes` can be kept as a status change's note."""
    if len(notes) > MAX_NOTE_LENGTH:
        raise RuleError(
            N_("A note can be at most %(most)s characters; this one has %(count)s."),
            most=f"{MAX_NOTE_LENGTH:,}",
            count=f"{len(notes):,}",
        )
    if "\x00" in notes:  # PostgreSQL cannot store it in text
        raise RuleError(N_("Remove the NUL character from the note."))


def _role_may(role: Role, kind: Kind, current: Status, target: Status) -> bool:
    if role.at_least(Role.SUPERVISOR):
        return True
    if kind is Kind.LIVESTOCK:
        return (current, target) in RECEIVING
    return target not in NEEDS_SUPERVISOR
