"""Who else has a purchase open: presence, kept by the event streams themselves.

A browser's stream says which purchases its tabs have open and how (`?here=supply:12:viewing`,
checked against what its user may see when it opens; `tab-sharing.js` reconnects it when that
changes). A purchase's people are then the users whose streams say so, in this process and, when
the broker crosses processes, in the others: each process shares its own streams' presence
through the broker when it changes and again every `BEAT_S` as a heartbeat, and forgets another
process's presence that has not been refreshed for `EXPIRE_S` (a process that died).

Presence is kept per purchase: where it is and whether it can still be edited, the streams here
that name it, and the people elsewhere. Where it is and its status follow the events that pass
through the hub (`follow`): a purchase moved to another farm or company is judged where it is now,
and a deleted one leaves presence. A stream is told of a purchase, and listed on it, only while it
may see it now: each listing and each frame asks its `visible`, which follows its user's
permissions (`regranted`). Someone shows as editing only while their role may update that kind
and the purchase can still be edited. A change works out that purchase's people once, then tells
only the streams concerned; one user is kept on at most `MAX_PER_USER` purchases in a process, so
no one account makes every change cost more.

A stream that ends (the tab or browser closed or crashed, or the page moved on) takes its
presence with it at once. Streams watching a purchase get a `presence` frame with its people
(themselves left out) whenever they change; every stream that may see a purchase gets an
`editing` frame when the set of people editing it changes, for the index tables' markers. Neither
frame has an id: presence is state, not history, and a stream that opens gets the current state.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import cast

import msgspec

from purchasing.domain.permissions import Action, can
from purchasing.domain.roles import Role
from purchasing.domain.statuses import Kind, Status, is_editable
from purchasing.live.events import Event
from purchasing.live.subscriber import Subscriber

log = logging.getLogger("purchasing.presence")

BEAT_S = 5.0  # how often each process shares its presence through the broker
EXPIRE_S = 15.0  # another process's presence not refreshed for this long is forgotten
MAX_HERE = 10  # purchases one stream may say it has open
MAX_PER_USER = 50  # purchases one user may have open across their streams, in one process
MODES = ("viewing", "editing")
MAX_MESSAGE = 7000  # bytes per broker message (PostgreSQL's NOTIFY takes 8000)
RECENT = 4096  # purchases whose latest event is remembered, for streams about to join

Key = tuple[str, int]  # (kind, purchase id)
STATUSES = frozenset(status.value for status in Status)


@dataclass(frozen=True, slots=True)
class Scope:
    """Where a purchase is, as the scope rules need it (the names match `Event`, so a stream's
    `visible` can judge it), and whether it can still be edited, as of its `version` (0:
    unknown, older than any)."""

    kind: str
    purchase_id: int
    company_id: int
    farm_id: int
    editable: bool = True
    version: int = 0

    @property
    def key(self) -> Key:
        return (self.kind, self.purchase_id)

    @property
    def state(self) -> tuple[int, int, bool]:
        """What its people and frames depend on: who may see it, and whether it is edited."""
        return (self.company_id, self.farm_id, self.editable)


@dataclass(frozen=True, slots=True)
class Here:
    """One purchase a stream has open, and how, with its scope and status when the stream
    opened."""

    kind: str
    purchase_id: int
    mode: str
    company_id: int
    farm_id: int
    status: Status
    version: int = 0

    @property
    def key(self) -> Key:
        return (self.kind, self.purchase_id)

    @property
    def scope(self) -> Scope:
        editable = is_editable(self.status)
        return Scope(
            self.kind, self.purchase_id, self.company_id, self.farm_id, editable, self.version
        )


def judged_mode(asked: str, role: Role, kind: str, editable: bool) -> str:
    """`editing` only for someone whose role may update this kind of purchase, while the
    purchase can still be edited; `viewing` otherwise, whatever the page asked."""
    may_update = any(k == kind and can(role, Action.UPDATE, k) for k in Kind)
    return "editing" if asked == "editing" and editable and may_update else "viewing"


def parse_here(text: str) -> list[tuple[str, int, str]]:
    """`supply:12:viewing,feed:3:editing` as (kind, id, mode), malformed items left out."""
    found = []
    for item in text.split(",")[:MAX_HERE]:
        parts = item.split(":")
        if len(parts) == 3 and parts[1].isdigit() and parts[2] in MODES and len(parts[1]) < 19:
            found.append((parts[0], int(parts[1]), parts[2]))
    return found


class Person(msgspec.Struct, frozen=True, array_like=True):
    user_id: int
    name: str
    mode: str


class Scoped(msgspec.Struct, frozen=True, array_like=True):
    """One purchase as a process shares it: its scope there, and its people there (an empty
    list: none left). A process of the version before sends no `version` nor `editable`."""

    company: int
    farm: int
    people: list[Person]
    version: int = 0
    editable: bool = True


class Shared(msgspec.Struct, frozen=True):
    """What a process tells the others: its people per purchase ("kind:id")."""

    node: str
    purchases: dict[str, Scoped]


@dataclass(eq=False, slots=True)
class Opened:
    """A purchase someone has open: the streams here naming it (with the mode each asked for),
    the people of each other process (with when they expire), and its people as last worked
    out."""

    scope: Scope
    streams: dict[Subscriber, str] = field(default_factory=dict)
    remote: dict[str, tuple[list[Person], float]] = field(default_factory=dict)
    people: list[Person] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.streams and not self.remote


@dataclass(frozen=True, slots=True)
class Visitor:
    """Whose a stream is, and the purchases it names."""

    user_id: int
    name: str
    keys: tuple[Key, ...]


class Frames:
    """One purchase's `presence` or `editing` frame for each viewer, who is left out of it:
    encoded once for the viewers not listed, and once for each viewer listed."""

    def __init__(self, event: str, scope: Scope, people: list[Person]) -> None:
        self.event = event
        self.scope = scope
        self.people = people
        self.listed = {person.user_id for person in people}
        self.made: dict[int | None, bytes] = {}

    def to(self, viewer: int) -> bytes:
        mine = viewer if viewer in self.listed else None
        frame = self.made.get(mine)
        if frame is None:
            frame = self.made[mine] = self._encode(mine)
        return frame

    def _encode(self, viewer: int | None) -> bytes:
        others = [p for p in self.people if p.user_id != viewer]
        if self.event == "presence":
            listed: object = [{"name": p.name, "mode": p.mode} for p in others]
            name = "people"
        else:
            listed, name = [p.name for p in others], "editors"
        data = {"kind": self.scope.kind, "purchase_id": self.scope.purchase_id, name: listed}
        return b"event: %s\ndata: %s\n\n" % (self.event.encode(), msgspec.json.encode(data))


class Presence:
    """This process's streams' presence, and the others' as the broker brings it."""

    def __init__(
        self,
        node: str,
        share: Callable[[str], None],
        streams: Callable[[], Iterable[Subscriber]],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.node = node
        self._share = share
        self._streams = streams
        self._clock = clock
        self._open: dict[Key, Opened] = {}
        self._local: dict[Subscriber, Visitor] = {}
        self._per_user: dict[int, Counter[Key]] = {}
        self._edited: set[Key] = set()  # the purchases someone is editing
        self._recent: OrderedDict[Key, Scope | None] = OrderedDict()  # None: deleted
        self._task: asyncio.Task[None] | None = None

    # --- Life ---

    def start(self) -> None:
        self._task = asyncio.create_task(self._beat_forever(), name="presence")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()

    # --- This process's streams ---

    def join(self, stream: Subscriber, user_id: int, name: str, heres: Iterable[Here]) -> None:
        """`stream` has these purchases open (checked against its scope by the caller). It is
        sent the editing markers it may see and each purchase's people; the others are told."""
        stream.frames.extend(self._editing_frames(stream))
        named = _by_key(heres)
        scopes = {key: self._newest(here.scope) for key, here in named.items()}
        wanted = self._bounded(user_id, {k: s for k, s in scopes.items() if s is not None})
        if not wanted:
            return
        self._local[stream] = Visitor(user_id, name, tuple(wanted))
        for key, scope in wanted.items():
            opened = self._open.get(key)
            if opened is None:
                opened = self._open[key] = Opened(scope)
            was = self._take(opened, scope)
            opened.streams[stream] = named[key].mode
            if stream not in self._update(opened, was):
                self._send_people(stream, opened)
        stream.flush()
        self._share_keys(wanted)

    def leave(self, stream: Subscriber) -> None:
        visitor = self._local.pop(stream, None)
        if visitor is None:
            return
        self._unbound(visitor.user_id, visitor.keys)
        for key in visitor.keys:
            opened = self._open.get(key)
            if opened is not None and opened.streams.pop(stream, None) is not None:
                self._update(opened)
                self._forget_if_empty(opened)
        self._share_keys(visitor.keys)

    def _bounded(self, user_id: int, wanted: dict[Key, Scope]) -> dict[Key, Scope]:
        """`wanted` within the user's MAX_PER_USER purchases in this process; what is beyond is
        left out without a word (a page that names it shows nobody)."""
        named = self._per_user.setdefault(user_id, Counter())
        kept = {}
        for key, scope in wanted.items():
            if key in named or len(named) < MAX_PER_USER:
                named[key] += 1
                kept[key] = scope
        if not named:
            del self._per_user[user_id]
        return kept

    def _unbound(self, user_id: int, keys: Iterable[Key]) -> None:
        named = self._per_user.get(user_id)
        if named is None:  # every purchase they named was deleted
            return
        for key in keys:
            named[key] -= 1
            if named[key] <= 0:
                del named[key]
        if not named:
            del self._per_user[user_id]

    def regranted(self, streams: Iterable[Subscriber]) -> None:
        """These streams follow new permissions now: the purchases they name are judged again,
        and each is sent what it may see now, since its queued frames were dropped. (A stream
        may hear a purchase twice: frames are state, the second says the same.)"""
        streams = list(streams)
        keys = {key for stream in streams for key in self._named_by(stream)}
        told = {key: self._update(self._open[key]) for key in keys}
        for stream in streams:
            stream.frames.extend(self._editing_frames(stream))
            for key in self._named_by(stream):
                if stream not in told[key]:
                    self._send_people(stream, self._open[key])
            stream.flush()
        self._share_keys(keys)

    def _named_by(self, stream: Subscriber) -> tuple[Key, ...]:
        visitor = self._local.get(stream)
        return visitor.keys if visitor else ()

    # --- Where each purchase is ---

    def follow(self, events: Iterable[Event]) -> None:
        """Keep each purchase where the events leave it: one moved to another farm or company
        is judged there from now on, and a deleted one leaves presence without a word."""
        moved = []
        for event in events:
            scope = _scope_of(event)
            if scope is None:
                continue
            action = event.data.get("action")
            self._remember(scope.key, None if action == "deleted" else scope)
            opened = self._open.get(scope.key)
            if opened is None:
                continue
            if action == "deleted":
                self._drop(opened)
                continue
            # A purchase id SQLite gave again after a delete starts over at version 1.
            was = self._take(opened, scope, always=action == "created")
            if was is not None:
                self._update(opened, was)
                moved.append(scope.key)
        if moved:
            self._share_keys(moved)

    def _remember(self, key: Key, scope: Scope | None) -> None:
        self._recent[key] = scope
        self._recent.move_to_end(key)
        if len(self._recent) > RECENT:
            self._recent.popitem(last=False)

    def _newest(self, scope: Scope) -> Scope | None:
        """`scope` (read before the stream joined), or what an event said since; None when the
        purchase was deleted."""
        if scope.key not in self._recent:
            return scope
        recent = self._recent[scope.key]
        if recent is None or recent.version > scope.version:
            return recent
        return scope

    def _take(self, opened: Opened, scope: Scope, always: bool = False) -> Scope | None:
        """`scope` becomes the purchase's when it is newer than what is known (or `always`);
        returns the one before when that changed who may see it or whether it is edited."""
        if scope.version <= opened.scope.version and not always:
            return None
        was, opened.scope = opened.scope, scope
        return was if was.state != scope.state else None

    def _drop(self, opened: Opened) -> None:
        """A deleted purchase: its streams no longer name it, and no one is told."""
        key = opened.scope.key
        for stream in opened.streams:
            visitor = self._local[stream]
            self._local[stream] = replace(visitor, keys=tuple(k for k in visitor.keys if k != key))
            self._unbound(visitor.user_id, (key,))
        del self._open[key]
        self._edited.discard(key)

    # --- What the pages get ---

    def people(self, key: Key) -> list[Person]:
        """Work out who has the purchase open, each once: editing when any of their tabs is.
        Done once per change of the purchase; the result is kept for the frames."""
        opened = self._open.get(key)
        if opened is None:
            return []
        found = self._local_people(opened)
        for people, _ in opened.remote.values():
            for person in people:
                if not opened.scope.editable:  # read here first: the other process follows
                    person = Person(person.user_id, person.name, "viewing")
                _add(found, person)
        return sorted(found.values(), key=lambda p: (p.name, p.user_id))

    def _local_people(self, opened: Opened) -> dict[int, Person]:
        """The people of this process's streams naming the purchase, each as their role and
        the purchase's status let them be there now."""
        found: dict[int, Person] = {}
        scope = opened.scope
        for stream, asked in opened.streams.items():
            if _sees(stream, scope) and stream.owner is not None:
                visitor = self._local[stream]
                mode = judged_mode(asked, stream.owner.actor.role, scope.kind, scope.editable)
                _add(found, Person(visitor.user_id, visitor.name, mode))
        return found

    def _update(self, opened: Opened, was: Scope | None = None) -> set[Subscriber]:
        """Work out the purchase's people again, and tell the streams when they changed or when
        the purchase moved from `was`; returns the streams told."""
        before = opened.people
        opened.people = self.people(opened.scope.key)
        if _editors(opened.people):
            self._edited.add(opened.scope.key)
        else:
            self._edited.discard(opened.scope.key)
        if opened.people == before and was is None:
            return set()
        return self._tell(opened, before, was)

    def _tell(self, opened: Opened, before: list[Person], was: Scope | None) -> set[Subscriber]:
        """The streams naming the purchase that may see it get its people; when who edits it
        changed, every stream that may see it gets its editors. After a move, streams that may
        see it only now get both, whatever changed; those that may no longer see it get
        nothing."""
        scope = opened.scope
        told: set[Subscriber] = set()
        people_changed = opened.people != before
        presence = Frames("presence", scope, opened.people)
        for stream in opened.streams:
            if _sees(stream, scope) and (people_changed or not _sees(stream, was)):
                stream.frames.append(presence.to(self._local[stream].user_id))
                told.add(stream)
        editors = _editors(opened.people)
        editors_changed = editors != _editors(before)
        if editors_changed or (was is not None and editors):
            editing = Frames("editing", scope, editors)
            for stream in self._streams():
                if _sees(stream, scope) and (editors_changed or not _sees(stream, was)):
                    stream.frames.append(editing.to(_viewer(stream)))
                    told.add(stream)
        for stream in told:
            stream.flush()
        return told

    def _send_people(self, stream: Subscriber, opened: Opened) -> None:
        if _sees(stream, opened.scope):
            frames = Frames("presence", opened.scope, opened.people)
            stream.frames.append(frames.to(self._local[stream].user_id))

    def _editing_frames(self, stream: Subscriber) -> list[bytes]:
        """The markers of the purchases being edited now that `stream` may see, for its index
        tables: only those purchases are looked at."""
        viewer = _viewer(stream)
        found = []
        for key in self._edited:
            opened = self._open[key]
            editors = _editors(opened.people)
            if any(p.user_id != viewer for p in editors) and _sees(stream, opened.scope):
                found.append(Frames("editing", opened.scope, editors).to(viewer))
        return found

    def _forget_if_empty(self, opened: Opened) -> None:
        if opened.empty:
            del self._open[opened.scope.key]
            self._edited.discard(opened.scope.key)

    # --- Other processes ---

    def _share_keys(self, keys: Iterable[Key] | None = None) -> None:
        """Tell the other processes who has these purchases open here (None: every purchase
        someone here has open), in messages small enough for the broker."""
        batch: dict[str, Scoped] = {}
        size = 0
        for name, scoped in self._scoped(keys):
            item = len(msgspec.json.encode(scoped)) + len(name) + 4
            if batch and size + item > MAX_MESSAGE:
                self._send(batch)
                batch, size = {}, 0
            batch[name] = scoped
            size += item
        if batch:
            self._send(batch)

    def _scoped(self, keys: Iterable[Key] | None) -> Iterable[tuple[str, Scoped]]:
        every = keys is None
        for key in self._open if keys is None else dict.fromkeys(keys):
            opened = self._open.get(key)
            people = list(self._local_people(opened).values()) if opened else []
            if every and not people:
                continue  # a heartbeat repeats what is here, and says nothing of the rest
            scope = opened.scope if opened else Scope(key[0], key[1], 0, 0)
            scoped = Scoped(scope.company_id, scope.farm_id, people, scope.version, scope.editable)
            yield f"{key[0]}:{key[1]}", scoped

    def _send(self, purchases: dict[str, Scoped]) -> None:
        self._share(msgspec.json.encode(Shared(self.node, purchases)).decode())

    def heard(self, message: str) -> None:
        """Another process's presence, from the broker."""
        try:
            shared = msgspec.json.decode(message, type=Shared)
        except msgspec.DecodeError:
            log.warning("ignored a presence message that does not decode")
            return
        if shared.node == self.node:
            return
        expires = self._clock() + EXPIRE_S
        for name, scoped in shared.purchases.items():
            kind, _, number = name.partition(":")
            if not number.isdigit():
                continue
            there = Scope(
                kind, int(number), scoped.company, scoped.farm, scoped.editable, scoped.version
            )
            opened = self._open.get(there.key)
            if opened is None:
                newest = self._newest(there)
                if not scoped.people or newest is None:
                    continue
                opened = self._open[there.key] = Opened(newest)
            # A process with nobody left there says so without a scope worth taking.
            was = self._take(opened, there) if scoped.people else None
            if scoped.people:
                opened.remote[shared.node] = (scoped.people, expires)
            else:
                opened.remote.pop(shared.node, None)
            self._update(opened, was)
            self._forget_if_empty(opened)

    def beat(self) -> None:
        """Share this process's presence again, and forget what other processes stopped
        refreshing (within EXPIRE_S + BEAT_S of their last word)."""
        if self._local:
            self._share_keys()
        now = self._clock()
        for opened in list(self._open.values()):
            silent = [node for node, (_, expires) in opened.remote.items() if expires <= now]
            if silent:
                for node in silent:
                    del opened.remote[node]
                self._update(opened)
                self._forget_if_empty(opened)

    async def _beat_forever(self) -> None:
        while True:
            await asyncio.sleep(BEAT_S)
            try:
                self.beat()
            except Exception:
                log.exception("presence heartbeat failed")


def _by_key(heres: Iterable[Here]) -> dict[Key, Here]:
    """Each purchase once: editing when any of its mentions is."""
    found: dict[Key, Here] = {}
    for here in heres:
        if here.key not in found or here.mode == "editing":
            found[here.key] = here
    return found


def _add(found: dict[int, Person], person: Person) -> None:
    known = found.get(person.user_id)
    if known is None or (known.mode != "editing" and person.mode == "editing"):
        found[person.user_id] = person


def _editors(people: list[Person]) -> list[Person]:
    return [p for p in people if p.mode == "editing"]


def _viewer(stream: Subscriber) -> int:
    return stream.owner.user_id if stream.owner else 0


def _sees(stream: Subscriber, scope: Scope | None) -> bool:
    """The stream may see a purchase there now (None: nowhere)."""
    return scope is not None and stream.visible(cast(Event, scope))


def _scope_of(event: Event) -> Scope | None:
    """Where an event leaves its purchase, and in what status; None for an event that does not
    say."""
    purchase_id = event.data.get("purchase_id")
    version = event.data.get("version")
    status = event.data.get("new_status", "")
    if not isinstance(purchase_id, int) or not isinstance(version, int) or status not in STATUSES:
        return None
    editable = is_editable(Status(status))
    return Scope(event.kind, purchase_id, event.company_id, event.farm_id, editable, version)
