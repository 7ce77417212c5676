"""Who else has a purchase open: presence, kept by the event streams themselves.

A browser's stream says which purchases its tabs have open and how (`?here=supply:12:viewing`,
checked against what its user may see when it opens; `tab-sharing.js` reconnects it when that
changes). A purchase's people are then the users whose streams say so, in this process and, when
the broker crosses processes, in the others: each process shares its own streams' presence
through the broker when it changes and again every `BEAT_S` as a heartbeat, and forgets another
process's presence that has not been refreshed for `EXPIRE_S` (a process that died).

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
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, cast

import msgspec

from purchasing.live.events import Event
from purchasing.live.subscriber import Subscriber

log = logging.getLogger("purchasing.presence")

BEAT_S = 5.0  # how often each process shares its presence through the broker
EXPIRE_S = 15.0  # another process's presence not refreshed for this long is forgotten
MAX_HERE = 10  # purchases one stream may say it has open
MODES = ("viewing", "editing")
MAX_MESSAGE = 7000  # bytes per broker message (PostgreSQL's NOTIFY takes 8000)

Key = tuple[str, int]  # (kind, purchase id)


@dataclass(frozen=True, slots=True)
class Here:
    """One purchase a stream has open, with what the scope rules need (the names match `Event`,
    so a stream's `visible` can judge it)."""

    kind: str
    purchase_id: int
    mode: str
    company_id: int
    farm_id: int

    @property
    def key(self) -> Key:
        return (self.kind, self.purchase_id)


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


class Shared(msgspec.Struct, frozen=True):
    """What a process tells the others: its people per purchase (an empty list: none left)."""

    node: str
    purchases: dict[str, tuple[int, int, list[Person]]]  # "kind:id" -> (company, farm, people)


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
        self._local: dict[Subscriber, tuple[Person, tuple[Here, ...]]] = {}
        self._remote: dict[tuple[str, Key], tuple[Here, list[Person], float]] = {}
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
        heres = tuple(heres)
        stream.frames.extend(self._editing_frames(stream))
        if not heres:
            return
        before = {here.key: self.people(here.key) for here in heres}
        self._local[stream] = (Person(user_id, name, ""), heres)
        self._changed(list(heres), before)  # tells every watcher, this stream too
        for here in heres:
            if self.people(here.key) == before[here.key]:
                stream.frames.append(self._frame(here, user_id))

    def leave(self, stream: Subscriber) -> None:
        entry = self._local.get(stream)
        if entry is None:
            return
        heres = entry[1]
        before = {here.key: self.people(here.key) for here in heres}
        del self._local[stream]
        self._changed(list(heres), before)

    # --- What the pages get ---

    def people(self, key: Key) -> list[Person]:
        """The people who have the purchase open, each once: editing when any of their tabs is."""
        found: dict[int, Person] = {}
        for person, heres in self._local.values():
            for here in heres:
                if here.key == key:
                    self._add(found, Person(person.user_id, person.name, here.mode))
        for (_, remote_key), (_, people, _) in self._remote.items():
            if remote_key == key:
                for person in people:
                    self._add(found, person)
        return sorted(found.values(), key=lambda p: (p.name, p.user_id))

    @staticmethod
    def _add(found: dict[int, Person], person: Person) -> None:
        known = found.get(person.user_id)
        if known is None or (known.mode != "editing" and person.mode == "editing"):
            found[person.user_id] = person

    def _editors(self, people: list[Person]) -> list[Person]:
        return [p for p in people if p.mode == "editing"]

    def _frame(self, here: Here, viewer: int) -> bytes:
        others = [p for p in self.people(here.key) if p.user_id != viewer]
        data = {
            "kind": here.kind,
            "purchase_id": here.purchase_id,
            "people": [{"name": p.name, "mode": p.mode} for p in others],
        }
        return b"event: presence\ndata: %s\n\n" % msgspec.json.encode(data)

    def _editing_frame(self, here: Here, editors: list[Person], viewer: int) -> bytes:
        data = {
            "kind": here.kind,
            "purchase_id": here.purchase_id,
            "editors": [p.name for p in editors if p.user_id != viewer],
        }
        return b"event: editing\ndata: %s\n\n" % msgspec.json.encode(data)

    def _editing_frames(self, stream: Subscriber) -> list[bytes]:
        """The purchases being edited now that `stream` may see, for its index tables."""
        viewer = stream.owner.user_id if stream.owner else 0
        frames = []
        for here in self._heres().values():
            editors = [p for p in self._editors(self.people(here.key)) if p.user_id != viewer]
            if editors and stream.visible(cast(Event, here)):
                frames.append(self._editing_frame(here, editors, viewer))
        return frames

    def _heres(self) -> dict[Key, Here]:
        """Every purchase someone has open, here or elsewhere."""
        found: dict[Key, Here] = {}
        for _, heres in self._local.values():
            for here in heres:
                found.setdefault(here.key, here)
        for (_, key), (here, _, _) in self._remote.items():
            found.setdefault(key, here)
        return found

    def _changed(self, heres: list[Here], before: dict[Key, list[Person]]) -> None:
        """Tell the streams about purchases whose people may have changed, and the others."""
        done: set[Key] = set()
        for here in heres:
            if here.key in done:
                continue
            done.add(here.key)
            now = self.people(here.key)
            if now == before.get(here.key, []):
                continue
            self._tell(here, before.get(here.key, []), now)
        if done:
            self._share_keys(done)

    def _tell(self, here: Here, before: list[Person], now: list[Person]) -> None:
        editors_changed = self._editors(before) != self._editors(now)
        editors = self._editors(now)
        for stream in list(self._streams()):
            viewer = stream.owner.user_id if stream.owner else 0
            frame = None
            entry = self._local.get(stream)
            if entry is not None and any(h.key == here.key for h in entry[1]):
                frame = self._frame(here, viewer)
            if editors_changed and stream.visible(cast(Event, here)):
                frame = (frame or b"") + self._editing_frame(here, editors, viewer)
            if frame:
                stream.frames.append(frame)
                stream.flush()

    # --- Other processes ---

    def _local_purchases(self, keys: Iterable[Key] | None = None) -> dict[str, Any]:
        wanted = set(keys) if keys is not None else None
        found: dict[Key, tuple[Here, dict[int, Person]]] = {}
        for person, heres in self._local.values():
            for here in heres:
                if wanted is not None and here.key not in wanted:
                    continue
                _, people = found.setdefault(here.key, (here, {}))
                self._add(people, Person(person.user_id, person.name, here.mode))
        for key in wanted or ():
            if key not in found:  # nobody here any more: say so
                found[key] = (Here(key[0], key[1], "", 0, 0), {})
        return {
            f"{here.kind}:{here.purchase_id}": (
                here.company_id,
                here.farm_id,
                list(people.values()),
            )
            for here, people in found.values()
        }

    def _share_keys(self, keys: Iterable[Key] | None = None) -> None:
        purchases = self._local_purchases(keys)
        batch: dict[str, Any] = {}
        size = 0
        for name, value in purchases.items():
            item = len(msgspec.json.encode(value)) + len(name) + 4
            if batch and size + item > MAX_MESSAGE:
                self._send(batch)
                batch, size = {}, 0
            batch[name] = value
            size += item
        if batch:
            self._send(batch)

    def _send(self, purchases: dict[str, Any]) -> None:
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
        for name, (company, farm, people) in shared.purchases.items():
            kind, _, number = name.partition(":")
            if not number.isdigit():
                continue
            key = (kind, int(number))
            previous = self._remote.get((shared.node, key))
            if people:
                here = Here(kind, key[1], "", company, farm)
            elif previous is not None:  # gone there: its scope is the one it was shared with
                here = previous[0]
            else:
                continue
            before = self.people(key)
            if people:
                self._remote[(shared.node, key)] = (here, people, expires)
            else:
                self._remote.pop((shared.node, key), None)
            now = self.people(key)
            if now != before:
                self._tell(here, before, now)

    def beat(self) -> None:
        """Share this process's presence again, and forget what other processes stopped
        refreshing (within EXPIRE_S + BEAT_S of their last word)."""
        if self._local:
            self._share_keys()
        now = self._clock()
        for node_key, (here, _, expires) in list(self._remote.items()):
            if expires <= now:
                before = self.people(here.key)
                del self._remote[node_key]
                after = self.people(here.key)
                if after != before:
                    self._tell(here, before, after)

    async def _beat_forever(self) -> None:
        while True:
            await asyncio.sleep(BEAT_S)
            try:
                self.beat()
            except Exception:
                log.exception("presence heartbeat failed")
