"""Who else has a purchase open: presence, kept by the event streams themselves.

A browser's stream says which purchases its tabs have open and how (`?here=supply:12:viewing`,
checked against what its user may see when it opens; `tab-sharing.js` reconnects it when that
changes). A purchase's people are then the users whose streams say so, in this process and, when
the broker crosses processes, in the others: each process shares its own streams' presence
through the broker when it changes and again every `BEAT_S` as a heartbeat, and forgets another
process's presence that has not been refreshed for `EXPIRE_S` (a process that died).

Presence is kept per purchase: the streams here that name it and the people elsewhere. A change
works out that purchase's people once, then tells only the streams concerned: at most
`MAX_PER_USER` purchases per user are kept in this process, so no one account makes every change
cost more.

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
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import cast

import msgspec

from purchasing.live.events import Event
from purchasing.live.subscriber import Subscriber

log = logging.getLogger("purchasing.presence")

BEAT_S = 5.0  # how often each process shares its presence through the broker
EXPIRE_S = 15.0  # another process's presence not refreshed for this long is forgotten
MAX_HERE = 10  # purchases one stream may say it has open
MAX_PER_USER = 50  # purchases one user may have open across their streams, in one process
MODES = ("viewing", "editing")
MAX_MESSAGE = 7000  # bytes per broker message (PostgreSQL's NOTIFY takes 8000)

Key = tuple[str, int]  # (kind, purchase id)


@dataclass(frozen=True, slots=True)
class Scope:
    """Where a purchase is, as the scope rules need it (the names match `Event`, so a stream's
    `visible` can judge it)."""

    kind: str
    purchase_id: int
    company_id: int
    farm_id: int

    @property
    def key(self) -> Key:
        return (self.kind, self.purchase_id)


@dataclass(frozen=True, slots=True)
class Here:
    """One purchase a stream has open, and how, with its scope when the stream opened."""

    kind: str
    purchase_id: int
    mode: str
    company_id: int
    farm_id: int

    @property
    def key(self) -> Key:
        return (self.kind, self.purchase_id)

    @property
    def scope(self) -> Scope:
        return Scope(self.kind, self.purchase_id, self.company_id, self.farm_id)


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
    list: none left)."""

    company: int
    farm: int
    people: list[Person]


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
        wanted = self._bounded(user_id, _by_key(heres))
        if not wanted:
            return
        self._local[stream] = Visitor(user_id, name, tuple(wanted))
        for key, here in wanted.items():
            opened = self._open.get(key) or self._open.setdefault(key, Opened(here.scope))
            opened.streams[stream] = here.mode
            if not self._update(opened):  # nobody else told: this stream still needs it
                self._send_people(stream, opened)
        stream.flush()
        self._share_keys(wanted)

    def leave(self, stream: Subscriber) -> None:
        visitor = self._local.pop(stream, None)
        if visitor is None:
            return
        self._unbound(visitor)
        for key in visitor.keys:
            opened = self._open.get(key)
            if opened is not None and opened.streams.pop(stream, None) is not None:
                self._update(opened)
                self._forget_if_empty(opened)
        self._share_keys(visitor.keys)

    def _bounded(self, user_id: int, wanted: dict[Key, Here]) -> dict[Key, Here]:
        """`wanted` within the user's MAX_PER_USER purchases in this process; what is beyond is
        left out without a word (a page that names it shows nobody)."""
        named = self._per_user.setdefault(user_id, Counter())
        kept = {}
        for key, here in wanted.items():
            if key in named or len(named) < MAX_PER_USER:
                named[key] += 1
                kept[key] = here
        if not named:
            del self._per_user[user_id]
        return kept

    def _unbound(self, visitor: Visitor) -> None:
        named = self._per_user[visitor.user_id]
        named.subtract(visitor.keys)
        for key in visitor.keys:
            if named[key] <= 0:
                del named[key]
        if not named:
            del self._per_user[visitor.user_id]

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
                _add(found, person)
        return sorted(found.values(), key=lambda p: (p.name, p.user_id))

    def _local_people(self, opened: Opened) -> dict[int, Person]:
        """The people of this process's streams naming the purchase."""
        found: dict[int, Person] = {}
        for stream, mode in opened.streams.items():
            visitor = self._local[stream]
            _add(found, Person(visitor.user_id, visitor.name, mode))
        return found

    def _update(self, opened: Opened) -> bool:
        """Work out the purchase's people again and tell the streams if they changed."""
        before = opened.people
        opened.people = self.people(opened.scope.key)
        if _editors(opened.people):
            self._edited.add(opened.scope.key)
        else:
            self._edited.discard(opened.scope.key)
        if opened.people == before:
            return False
        self._tell(opened, before)
        return True

    def _tell(self, opened: Opened, before: list[Person]) -> None:
        """The streams naming the purchase get its people; when who edits it changed, every
        stream that may see it gets its editors."""
        scope = opened.scope
        told = set()
        presence = Frames("presence", scope, opened.people)
        for stream in opened.streams:
            if stream.visible(cast(Event, scope)):
                stream.frames.append(presence.to(self._local[stream].user_id))
                told.add(stream)
        editors = _editors(opened.people)
        if editors != _editors(before):
            editing = Frames("editing", scope, editors)
            for stream in self._streams():
                if stream.visible(cast(Event, scope)):
                    stream.frames.append(editing.to(_viewer(stream)))
                    told.add(stream)
        for stream in told:
            stream.flush()

    def _send_people(self, stream: Subscriber, opened: Opened) -> None:
        if stream.visible(cast(Event, opened.scope)):
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
            if any(p.user_id != viewer for p in editors) and stream.visible(
                cast(Event, opened.scope)
            ):
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
            yield f"{key[0]}:{key[1]}", Scoped(scope.company_id, scope.farm_id, people)

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
            key = (kind, int(number))
            opened = self._open.get(key)
            if opened is None:
                if not scoped.people:
                    continue
                opened = self._open[key] = Opened(Scope(kind, key[1], scoped.company, scoped.farm))
            if scoped.people:
                opened.remote[shared.node] = (scoped.people, expires)
            else:
                opened.remote.pop(shared.node, None)
            self._update(opened)
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
