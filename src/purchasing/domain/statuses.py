"""Purchase kinds, statuses and the moves between them (BRIEF section 2)."""

from __future__ import annotations

from enum import StrEnum

from purchasing.domain.roles import Role


class Kind(StrEnum):
    SUPPLY = "supply"
    FEED = "feed"
    LIVESTOCK = "livestock"

    @property
    def label(self) -> str:
        return KIND_LABELS[self]

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
        return self.value.replace("_", " ").title()

    @property
    def is_final(self) -> bool:
        return self in FINAL

    @property
    def needs_note(self) -> bool:
        return self in NEEDS_NOTE


KIND_LABELS = {
    Kind.SUPPLY: "Supply (OVK)",
    Kind.FEED: "Feed (Pakan)",
    Kind.LIVESTOCK: "Livestock (DOC)",
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
MAX_NOTE_LENGTH = 2000


class RuleError(Exception):
    """A status move the rules forbid; the message is for the clerk."""


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
    return [s for s in kind.statuses if s in allowed and _role_may(role, s)]


def check_move(kind: Kind, current: Status, target: Status, role: Role, notes: str) -> None:
    """Raise RuleError unless `role` may move a `kind` purchase from `current` to `target`."""
    if target not in kind.statuses:
        raise RuleError(f"{target.label} is not a status of {kind.value} purchases.")
    if target is current:
        raise RuleError(f"The purchase is already {current.label}.")
    if current.is_final:
        raise RuleError(f"{current.label} is final: the status can no longer change.")
    if target not in next_statuses(kind, current):
        raise RuleError(
            f"A {kind.value} purchase cannot go from {current.label} to {target.label}."
        )
    if not _role_may(role, target):
        raise RuleError(f"Only a Supervisor or higher may set {target.label}.")
    if target.needs_note and not notes.strip():
        raise RuleError(f"A note is required to set {target.label}.")
    check_note(notes)


def check_note(notes: str) -> None:
    """Raise RuleError unless `notes` can be kept as a status change's note."""
    if len(notes) > MAX_NOTE_LENGTH:
        raise RuleError(
            f"A note can be at most {MAX_NOTE_LENGTH:,} characters; this one has {len(notes):,}."
        )
    if "\x00" in notes:  # PostgreSQL cannot store it in text
        raise RuleError("Remove the NUL character from the note.")


def _role_may(role: Role, target: Status) -> bool:
    return target not in NEEDS_SUPERVISOR or role.at_least(Role.SUPERVISOR)
