"""Replay: the newest events, for a stream that reconnects with the id of the last one it saw."""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Iterable

from purchasing.live.events import Event
from purchasing.live.subscriber import Subscriber, Visible


class Replay:
    """The newest `size` events read, oldest first."""

    def __init__(self, size: int) -> None:
        self.ring: deque[Event] = deque(maxlen=size)

    @property
    def size(self) -> int:
        return self.ring.maxlen or 0

    def add(self, events: Iterable[Event]) -> None:
        self.ring.extend(events)

    def clear(self) -> None:
        self.ring.clear()

    def forget_before(self, oldest: int) -> None:
        """Forget what the outbox no longer keeps, so every process answers an old cursor
        alike."""
        while self.ring and self.ring[0].id < oldest:
            self.ring.popleft()

    def into(self, subscriber: Subscriber, after: int | None, newest: int, limit: int) -> str:
        """Queue for `subscriber` the events after `after` it may see, `newest` being the last
        one read; return why a resync is needed instead (a key of RESYNC_REASONS), or ''. More
        than `limit` missed events are a resync too."""
        if after is None:
            return ""
        if after > newest:
            return "cursor_ahead"
        oldest_kept = self.ring[0].id if self.ring else newest + 1
        if after < oldest_kept - 1:
            return "history_gone"
        missed = [e for e in self.ring if e.id > after and subscriber.visible(e)]
        if len(missed) > limit:
            return "too_many_missed"
        subscriber.frames.extend(e.frame for e in missed)
        subscriber.stats.replayed_events(len(missed))
        return ""

    def newest(self, visible: Visible, count: int) -> list[Event]:
        """The newest `count` events `visible` lets through, newest first."""
        return list(itertools.islice((e for e in reversed(self.ring) if visible(e)), count))
