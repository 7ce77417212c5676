"""Presence kept by the streams: who has a purchase open, told to those watching it and (for
editing markers) to those who may see it; shared between processes, forgotten when a process
stops refreshing."""

from __future__ import annotations

import json
from dataclasses import replace

from purchasing.domain.actor import Actor
from purchasing.domain.roles import Role
from purchasing.domain.statuses import Status
from purchasing.live.events import Event
from purchasing.live.presence import (
    BEAT_S,
    EXPIRE_S,
    Here,
    Key,
    Person,
    Presence,
    parse_here,
)
from purchasing.live.stream import visible_to
from purchasing.live.subscriber import HubStats, Owner, Subscriber

DRAFT = Status.DRAFT
SUPPLY_12 = Here("supply", 12, "viewing", 1, 1, DRAFT)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def stream(
    user_id: int, company: int = 1, role: Role = Role.MANAGER, farms: tuple[int, ...] = ()
) -> Subscriber:
    actor = Actor(user_id, f"user{user_id}", f"User {user_id}", role, company, frozenset(farms))
    return Subscriber(visible_to(actor), 0, 100, HubStats(), Owner(f"s{user_id}", actor))


def operator(user_id: int, *farms: int) -> Subscriber:
    return stream(user_id, role=Role.OPERATOR, farms=farms)


def regrant(node: Node, subscriber: Subscriber, **changes: object) -> None:
    """What the hub does when the user's permissions change: new owner and `visible`, the
    queued frames dropped, then presence judged again."""
    assert subscriber.owner is not None
    actor = replace(subscriber.owner.actor, **changes)  # type: ignore[arg-type]
    subscriber.owner = Owner(subscriber.owner.session_id, actor)
    subscriber.visible = visible_to(actor)
    subscriber.frames.clear()
    node.presence.regranted([subscriber])


def change(
    purchase_id: int, version: int, farm: int = 1, action: str = "edited", status: str = "draft"
) -> Event:
    """The event of a change to supply purchase `purchase_id`, leaving it on `farm`."""
    data = {"purchase_id": purchase_id, "version": version, "action": action, "new_status": status}
    return Event(version, "supply_purchase_changed", "supply", 1, farm, b"", data, 0.0)


def said(subscriber: Subscriber) -> list[tuple[str, object]]:
    """Each presence or editing frame queued for `subscriber`, taken: its event and its list."""
    found = []
    for frame in subscriber.take().split(b"\n\n"):
        for event, field in ((b"presence", "people"), (b"editing", "editors")):
            if frame.startswith(b"event: %s\n" % event):
                data = json.loads(frame.split(b"data: ", 1)[1])
                found.append((event.decode(), data[field]))
    return found


def frames(subscriber: Subscriber, event: str) -> list[dict[str, object]]:
    """The data of each `event` frame queued for `subscriber`, taken."""
    found = []
    for frame in subscriber.take().split(b"\n\n"):
        if frame.startswith(b"event: %s\n" % event.encode()):
            found.append(json.loads(frame.split(b"data: ", 1)[1]))
    return found


class Node:
    """One process's presence, its streams, and what it shared."""

    def __init__(self, name: str, clock: Clock) -> None:
        self.streams: list[Subscriber] = []
        self.shared: list[str] = []
        self.presence = Presence(name, self.shared.append, lambda: self.streams, clock)

    def open(self, subscriber: Subscriber, *heres: Here) -> Subscriber:
        self.streams.append(subscriber)
        actor = subscriber.owner.actor  # type: ignore[union-attr]
        self.presence.join(subscriber, actor.id, actor.full_name, heres)
        return subscriber

    def close(self, subscriber: Subscriber) -> None:
        self.presence.leave(subscriber)
        self.streams.remove(subscriber)


def people(frame: dict[str, object]) -> list[tuple[str, str]]:
    return [(p["name"], p["mode"]) for p in frame["people"]]  # type: ignore[attr-defined, index]


def test_parse_here_keeps_only_well_formed_items() -> None:
    assert parse_here("supply:12:viewing,feed:3:editing,x,feed:a:viewing,feed:1:owning") == [
        ("supply", 12, "viewing"),
        ("feed", 3, "editing"),
    ]
    assert len(parse_here(",".join(f"supply:{n}:viewing" for n in range(50)))) == 10


def test_watchers_see_each_other_but_not_themselves_and_leaving_is_told() -> None:
    node = Node("a", Clock())
    first = node.open(stream(1), SUPPLY_12)
    assert frames(first, "presence") == [{"kind": "supply", "purchase_id": 12, "people": []}]
    second = node.open(stream(2), Here("supply", 12, "editing", 1, 1, DRAFT))
    assert [people(f) for f in frames(first, "presence")] == [[("User 2", "editing")]]
    assert [people(f) for f in frames(second, "presence")] == [[("User 1", "viewing")]]
    node.close(second)
    assert [people(f) for f in frames(first, "presence")] == [[]]


def test_one_entry_per_person_editing_wins() -> None:
    node = Node("a", Clock())
    watcher = node.open(stream(1), SUPPLY_12)
    node.open(stream(2), SUPPLY_12)
    node.open(
        stream(2), Here("supply", 12, "editing", 1, 1, DRAFT)
    )  # the same person, another browser
    assert people(frames(watcher, "presence")[-1]) == [("User 2", "editing")]


def test_editing_markers_go_to_whoever_may_see_the_purchase_and_nobody_else() -> None:
    node = Node("a", Clock())
    index = node.open(stream(1))  # an index page: nothing open
    stranger = node.open(stream(9, company=2))
    node.open(stream(2), Here("supply", 12, "editing", 1, 1, DRAFT))
    assert frames(index, "editing") == [
        {"kind": "supply", "purchase_id": 12, "editors": ["User 2"]}
    ]
    assert frames(stranger, "editing") == []
    late = node.open(stream(3))  # a page that opens while someone edits gets the marker
    assert frames(late, "editing") == [{"kind": "supply", "purchase_id": 12, "editors": ["User 2"]}]
    assert frames(node.open(stream(8, company=2)), "editing") == []


def test_presence_crosses_processes_and_a_silent_process_is_forgotten() -> None:
    clock = Clock()
    a, b = Node("a", clock), Node("b", clock)
    watcher = b.open(stream(1), SUPPLY_12)
    frames(watcher, "presence")
    a.open(stream(2), Here("supply", 12, "editing", 1, 1, DRAFT))
    for message in a.shared:
        b.presence.heard(message)
    assert people(frames(watcher, "presence")[-1]) == [("User 2", "editing")]
    b.presence.heard(a.shared[-1].replace('"node":"a"', '"node":"b"'))  # its own: ignored
    assert frames(watcher, "presence") == []

    a.shared.clear()
    clock.now += BEAT_S
    a.presence.beat()  # the heartbeat repeats what A has
    assert a.shared
    b.presence.heard(a.shared[-1])
    clock.now += EXPIRE_S - 1
    b.presence.beat()
    assert frames(watcher, "presence") == []  # still fresh
    clock.now += 2  # A died: no word for EXPIRE_S
    b.presence.beat()
    assert people(frames(watcher, "presence")[-1]) == []


def test_leaving_elsewhere_is_told_with_the_scope_it_was_shared_with() -> None:
    clock = Clock()
    a, b = Node("a", clock), Node("b", clock)
    index = b.open(stream(1))
    editor = a.open(stream(2), Here("supply", 12, "editing", 1, 1, DRAFT))
    for message in a.shared:
        b.presence.heard(message)
    assert frames(index, "editing")[-1]["editors"] == ["User 2"]
    a.shared.clear()
    a.close(editor)
    for message in a.shared:
        b.presence.heard(message)
    assert frames(index, "editing") == [{"kind": "supply", "purchase_id": 12, "editors": []}]


def test_a_message_that_does_not_decode_changes_nothing() -> None:
    node = Node("b", Clock())
    watcher = node.open(stream(1), SUPPLY_12)
    frames(watcher, "presence")
    node.presence.heard("{not json")
    node.presence.heard('{"node": "a", "purchases": {"supply:x": [1, 1, []]}}')
    assert frames(watcher, "presence") == []


def counted(presence: Presence) -> list[Key]:
    """The purchases whose people `presence` works out from now on, one entry per time."""
    calls: list[Key] = []
    work_out = presence.people

    def people(key: Key) -> list[Person]:
        calls.append(key)
        return work_out(key)

    presence.people = people  # type: ignore[method-assign]
    return calls


def supply(*numbers: int, mode: str = "viewing") -> list[Here]:
    return [Here("supply", n, mode, 1, 1, DRAFT) for n in numbers]


def test_a_purchases_people_are_worked_out_once_per_change_however_many_streams_are_told() -> None:
    node = Node("a", Clock())
    ten = range(1, 11)
    watchers = [node.open(stream(1), *supply(*ten)) for _ in range(95)]  # one account
    for watcher in watchers:
        watcher.take()
    calls = counted(node.presence)
    editor = node.open(stream(2), *supply(*ten, mode="editing"))
    assert sorted(calls) == [("supply", n) for n in ten]
    for watcher in watchers:
        told = frames(watcher, "presence")
        assert [people(f) for f in told] == [[("User 2", "editing")]] * 10
    calls.clear()
    node.close(editor)
    assert sorted(calls) == [("supply", n) for n in ten]


def test_a_page_that_opens_gets_the_editing_markers_without_a_look_at_every_open_purchase() -> None:
    node = Node("a", Clock())
    node.open(stream(1), *supply(*range(1, 11)))
    node.open(stream(2), *supply(*range(11, 21)))
    node.open(stream(4), *supply(7, mode="editing"))
    calls = counted(node.presence)
    index = node.open(stream(3))
    assert frames(index, "editing") == [{"kind": "supply", "purchase_id": 7, "editors": ["User 4"]}]
    assert calls == []


def test_one_user_is_present_on_at_most_fifty_purchases_and_the_rest_is_left_out_quietly() -> None:
    node = Node("a", Clock())
    watcher = node.open(stream(2), *supply(50, 51))
    frames(watcher, "presence")
    many = [node.open(stream(1), *supply(*range(n, n + 10))) for n in range(1, 61, 10)]
    assert [(f["purchase_id"], people(f)) for f in frames(watcher, "presence")] == [
        (50, [("User 1", "viewing")])
    ]
    again = node.open(stream(1), *supply(1, 51))  # one already counted, one beyond
    assert frames(watcher, "presence") == []
    node.close(many[0])
    node.close(again)  # purchases 1 to 10 are no longer theirs: room for ten more
    node.open(stream(1), *supply(51))
    assert [(f["purchase_id"], people(f)) for f in frames(watcher, "presence")] == [
        (51, [("User 1", "viewing")])
    ]


def test_a_purchase_moved_to_a_farm_an_operator_may_not_see_is_no_longer_theirs_to_hear_of() -> (
    None
):
    node = Node("a", Clock())
    watching = node.open(operator(3, 3), Here("supply", 12, "viewing", 1, 3, DRAFT, 1))
    index = node.open(operator(5, 3))
    manager = node.open(stream(1), Here("supply", 12, "viewing", 1, 3, DRAFT, 1))
    editor = node.open(stream(2), Here("supply", 12, "editing", 1, 3, DRAFT, 1))
    assert said(index) == [("editing", ["User 2"])]
    assert ("editing", ["User 2"]) in said(watching)
    said(manager)
    node.presence.follow([change(12, 2, farm=1)])  # edited: now on farm 1
    assert said(manager) == [("presence", [{"name": "User 2", "mode": "editing"}])]
    assert said(watching) == said(index) == []
    assert [p.name for p in node.presence.people(("supply", 12))] == ["User 1", "User 2"]
    node.close(editor)
    node.open(
        stream(4), Here("supply", 12, "editing", 1, 3, DRAFT, 1)
    )  # a page read before the move
    assert said(watching) == said(index) == []
    late = node.open(operator(6, 3))
    assert said(late) == []
    assert [p.name for p in node.presence.people(("supply", 12))] == ["User 1", "User 4"]


def test_a_purchase_moved_where_a_page_may_see_it_brings_that_page_its_editing_marker() -> None:
    node = Node("a", Clock())
    index = node.open(operator(5, 1))
    node.open(stream(2), Here("supply", 12, "editing", 1, 3, DRAFT, 1))
    assert said(index) == []
    node.presence.follow([change(12, 2, farm=1)])
    assert said(index) == [("editing", ["User 2"])]


def test_an_operator_taken_off_a_farm_stops_hearing_of_its_purchases_and_is_no_longer_listed() -> (
    None
):
    node = Node("a", Clock())
    here = Here("supply", 12, "viewing", 1, 1, DRAFT, 1)
    watching = node.open(operator(3, 1, 3), here)
    index = node.open(operator(5, 1, 3))
    manager = node.open(stream(1), here)
    assert said(manager) == [("presence", [{"name": "User 3", "mode": "viewing"}])]
    regrant(node, watching, farm_ids=frozenset({3}))
    regrant(node, index, farm_ids=frozenset({3}))
    assert said(manager) == [("presence", [])]
    assert said(watching) == said(index) == []
    node.open(stream(2), replace(here, mode="editing"))
    assert said(watching) == said(index) == []
    assert [p.name for p in node.presence.people(("supply", 12))] == ["User 1", "User 2"]
    regrant(node, watching, farm_ids=frozenset({1, 3}))  # given back: heard and listed again
    assert sorted(said(watching)) == [
        ("editing", ["User 2"]),
        (
            "presence",
            [{"name": "User 1", "mode": "viewing"}, {"name": "User 2", "mode": "editing"}],
        ),
    ]
    assert ("User 3", "viewing") in people(frames(manager, "presence")[-1])


def test_a_deleted_purchase_leaves_presence_entirely() -> None:
    clock = Clock()
    a, b = Node("a", clock), Node("b", clock)
    here = Here("supply", 12, "editing", 1, 1, DRAFT, 1)
    watcher = b.open(stream(1), replace(here, mode="viewing"))
    index = b.open(stream(5))
    a.open(stream(2), here)
    for message in a.shared:
        b.presence.heard(message)
    said(watcher), said(index)
    b.presence.follow([change(12, 2, action="deleted")])
    assert b.presence.people(("supply", 12)) == []
    for message in a.shared:  # A has not read the deletion yet: its word comes late
        b.presence.heard(message)
    b.open(stream(6), here)  # a page read before the deletion
    assert said(watcher) == said(index) == []
    assert b.presence.people(("supply", 12)) == []
    assert said(b.open(stream(7))) == []
    b.close(watcher)


def test_another_process_that_has_not_read_a_move_yet_does_not_move_the_purchase_back() -> None:
    clock = Clock()
    a, b = Node("a", clock), Node("b", clock)
    index = b.open(operator(5, 3))
    a.open(stream(2), Here("supply", 12, "editing", 1, 3, DRAFT, 1))
    b.presence.heard(a.shared[-1])
    assert said(index) == [("editing", ["User 2"])]
    b.presence.follow([change(12, 2, farm=1)])
    a.shared.clear()
    clock.now += BEAT_S
    a.presence.beat()  # A still has it on farm 3
    b.presence.heard(a.shared[-1])
    a.presence.follow([change(12, 2, farm=1)])
    for message in a.shared:
        b.presence.heard(message)
    assert said(index) == []
    a.open(stream(3), Here("supply", 12, "editing", 1, 1, DRAFT, 2))
    for message in a.shared:
        b.presence.heard(message)
    assert said(index) == []
    assert [p.name for p in b.presence.people(("supply", 12))] == ["User 2", "User 3"]


def test_someone_whose_role_may_not_update_a_kind_is_listed_as_viewing_whatever_was_asked() -> None:
    node = Node("a", Clock())
    index = node.open(stream(5))
    livestock = Here("livestock", 7, "editing", 1, 1, DRAFT)
    watcher = node.open(stream(1), replace(livestock, mode="viewing"))
    said(watcher)
    node.open(operator(3, 1), livestock)  # an Operator only reads livestock
    assert said(watcher) == [("presence", [{"name": "User 3", "mode": "viewing"}])]
    assert said(index) == []
    demoted = node.open(stream(2), livestock)
    assert said(index) == [("editing", ["User 2"])]
    said(watcher)
    regrant(node, demoted, role=Role.OPERATOR, farm_ids=frozenset({1}))
    assert said(watcher) == [
        (
            "presence",
            [{"name": "User 2", "mode": "viewing"}, {"name": "User 3", "mode": "viewing"}],
        ),
        ("editing", []),
    ]
    assert said(index) == [("editing", [])]


def test_a_purchase_that_can_no_longer_be_edited_turns_its_editors_into_viewers() -> None:
    clock = Clock()
    a, b = Node("a", clock), Node("b", clock)
    index = b.open(stream(5))
    in_transit = Here("supply", 12, "editing", 1, 1, Status.IN_TRANSIT, 4)
    watcher = b.open(stream(1), replace(in_transit, mode="viewing"))
    b.open(stream(2), in_transit)
    a.open(stream(3), in_transit)  # in another process
    b.presence.heard(a.shared[-1])
    assert said(index)[-1] == ("editing", ["User 2", "User 3"])
    said(watcher)
    b.presence.follow([change(12, 5, status="arrived")])
    viewers = [{"name": f"User {n}", "mode": "viewing"} for n in (2, 3)]
    assert said(watcher) == [("presence", viewers), ("editing", [])]
    assert said(index) == [("editing", [])]
    b.presence.heard(a.shared[-1])  # A has not read the move yet: its word changes nothing
    completed = replace(in_transit, status=Status.COMPLETED, version=6)
    b.open(stream(6), completed)  # a page that opened on it later
    assert said(watcher) == [("presence", [*viewers, {"name": "User 6", "mode": "viewing"}])]
    assert said(index) == []
