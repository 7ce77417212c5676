"""Every (from, to) pair of every kind, against the table written out from the brief."""

from __future__ import annotations

import itertools

import pytest

from purchasing.domain.roles import Role
from purchasing.domain.statuses import (
    Kind,
    RuleError,
    Status,
    check_move,
    next_statuses,
    offered_moves,
)

D, P, C, T = "draft", "pending", "confirmed", "in_transit"
A, COOP, DONE, X = "arrived", "in_coop", "completed", "cancelled"
OPEN = {D, P, C, T}

# Written out by hand from BRIEF section 2, independent of the implementation.
ALLOWED = {
    "supply": {
        **{s: (OPEN - {s}) | {A, X} for s in OPEN},
        A: {DONE, X},
        DONE: set(),
        X: set(),
    },
    "feed": {
        **{s: (OPEN - {s}) | {A, X} for s in OPEN},
        A: {DONE},
        DONE: set(),
        X: set(),
    },
    "livestock": {
        **{s: (OPEN - {s}) | {A, X} for s in OPEN},
        A: {COOP, X},
        COOP: {DONE},
        DONE: set(),
        X: set(),
    },
}
PAIRS = [
    (kind, current, target)
    for kind, table in ALLOWED.items()
    for current, target in itertools.product(table, table)
]


def note_for(target: str) -> str:
    return "checked by phone" if target in {DONE, X} else ""


@pytest.mark.parametrize(("kind", "current", "target"), PAIRS)
def test_every_pair_follows_the_brief(kind: str, current: str, target: str) -> None:
    allowed = target in ALLOWED[kind][current]
    if allowed:
        check_move(Kind(kind), Status(current), Status(target), Role.SUPER_ADMIN, note_for(target))
    else:
        with pytest.raises(RuleError):
            check_move(
                Kind(kind), Status(current), Status(target), Role.SUPER_ADMIN, note_for(target)
            )
    assert (Status(target) in next_statuses(Kind(kind), Status(current))) is allowed


def test_the_table_covers_every_status_of_every_kind() -> None:
    for kind in Kind:
        assert set(ALLOWED[kind.value]) == {s.value for s in kind.statuses}
    assert len(PAIRS) == 7 * 7 + 7 * 7 + 8 * 8


@pytest.mark.parametrize("kind", ["supply", "feed"])
def test_in_coop_is_not_a_status_of_supply_or_feed(kind: str) -> None:
    with pytest.raises(RuleError, match="not a status"):
        check_move(Kind(kind), Status.ARRIVED, Status.IN_COOP, Role.SUPER_ADMIN, "")


@pytest.mark.parametrize("target", [Status.CANCELLED, Status.COMPLETED])
@pytest.mark.parametrize("notes", ["", "   "])
def test_cancelled_and_completed_need_a_note(target: Status, notes: str) -> None:
    with pytest.raises(RuleError, match="note is required"):
        check_move(Kind.SUPPLY, Status.ARRIVED, target, Role.SUPER_ADMIN, notes)


@pytest.mark.parametrize("role", list(Role))
def test_completed_needs_supervisor_or_higher(role: Role) -> None:
    may = role in {Role.SUPER_ADMIN, Role.ADMINISTRATOR, Role.MANAGER, Role.SUPERVISOR}
    if may:
        check_move(Kind.FEED, Status.ARRIVED, Status.COMPLETED, role, "all sacks counted")
    else:
        with pytest.raises(RuleError, match="Supervisor"):
            check_move(Kind.FEED, Status.ARRIVED, Status.COMPLETED, role, "all sacks counted")
    assert (Status.COMPLETED in offered_moves(Kind.FEED, Status.ARRIVED, role)) is may


def test_operator_may_cancel_but_not_complete() -> None:
    assert offered_moves(Kind.SUPPLY, Status.ARRIVED, Role.OPERATOR) == [Status.CANCELLED]
    assert offered_moves(Kind.LIVESTOCK, Status.IN_COOP, Role.OPERATOR) == []


@pytest.mark.parametrize("current", list(Status))
def test_on_livestock_an_operator_only_records_chicks_arriving_and_going_into_the_coop(
    current: Status,
) -> None:
    receiving = {Status.IN_TRANSIT: [Status.ARRIVED], Status.ARRIVED: [Status.IN_COOP]}
    assert offered_moves(Kind.LIVESTOCK, current, Role.OPERATOR) == receiving.get(current, [])
    for target in next_statuses(Kind.LIVESTOCK, current):
        if target in receiving.get(current, []):
            check_move(Kind.LIVESTOCK, current, target, Role.OPERATOR, "")
            check_move(Kind.LIVESTOCK, current, target, Role.SUPERVISOR, "checked")
        else:
            with pytest.raises(RuleError, match="An Operator may only record chicks arriving"):
                check_move(Kind.LIVESTOCK, current, target, Role.OPERATOR, "a note")
            check_move(Kind.LIVESTOCK, current, target, Role.SUPERVISOR, "a note")


def test_a_move_to_the_current_status_is_not_a_move() -> None:
    with pytest.raises(RuleError, match="already Pending"):
        check_move(Kind.SUPPLY, Status.PENDING, Status.PENDING, Role.SUPER_ADMIN, "")


@pytest.mark.parametrize("final", [Status.COMPLETED, Status.CANCELLED])
def test_final_statuses_offer_nothing(final: Status) -> None:
    for kind in Kind:
        assert offered_moves(kind, final, Role.SUPER_ADMIN) == []
        with pytest.raises(RuleError, match="final"):
            check_move(kind, final, Status.DRAFT, Role.SUPER_ADMIN, "")


def test_moves_are_offered_in_workflow_order() -> None:
    assert offered_moves(Kind.LIVESTOCK, Status.PENDING, Role.SUPERVISOR) == [
        Status.DRAFT,
        Status.CONFIRMED,
        Status.IN_TRANSIT,
        Status.ARRIVED,
        Status.CANCELLED,
    ]
