"""Fan-out: this process's open streams, each event offered to every stream that may see it, one
timer for the heartbeats, and the caps on streams per session and per user."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable

from purchasing import metrics
from purchasing.gcpauses import StreamFreezer
from purchasing.i18n import _
from purchasing.live.events import HEARTBEAT, Event, resync_frame
from purchasing.live.subscriber import HubStats, Owner, Subscriber, Visible

# A stream's new owner, what it may see, and the kinds that lets through.
Grant = tuple[Owner, Visible, frozenset[str]]


class TooManyStreams(Exception):
    """A session or a user already holds as many open streams as allowed; the message says
    which and what to do, `retry_after_s` how long the page should wait before asking again."""

    retry_after_s = 30

    @classmethod
    def per_session(cls, limit: int) -> TooManyStreams:
        return cls(
            _(
                "Paused: this browser already has %(limit)s live connections to this site. "
                "Close some of its tabs; this page tries again in a moment.",
                limit=limit,
            )
        )

    @classmethod
    def per_user(cls, limit: int) -> TooManyStreams:
        return cls(
            _(
                "Paused: your account already has %(limit)s live connections to this site. "
                "Close some of its tabs, here or on other devices; this page tries again in a "
                "moment.",
                limit=limit,
            )
        )


class Fanout:
    """The open streams and what is written to them."""

    def __init__(
        self,
        stats: HubStats,
        *,
        heartbeat_s: float,
        streams_per_session: int,
        streams_per_user: int,
        refused_retry_s: int,
    ) -> None:
        self.stats = stats
        self.heartbeat_s = heartbeat_s
        self.streams_per_session = streams_per_session
        self.streams_per_user = streams_per_user
        self.refused_retry_s = refused_retry_s
        self.subscribers: set[Subscriber] = set()
        self._per_session: Counter[str] = Counter()
        self._per_user: Counter[int] = Counter()
        self._delivered_counted = 0
        self.freezer = StreamFreezer()

    def take_place(self, owner: Owner) -> None:
        """Count a stream for its owner now, before anything awaits: streams opened at the same
        moment cannot all slip under the limit. Raises TooManyStreams past a cap."""
        refusal = None
        if self._per_session[owner.session_id] >= self.streams_per_session:
            refusal = TooManyStreams.per_session(self.streams_per_session)
        elif self._per_user[owner.user_id] >= self.streams_per_user:
            refusal = TooManyStreams.per_user(self.streams_per_user)
        if refusal is not None:
            refusal.retry_after_s = self.refused_retry_s
            raise refusal
        self._per_session[owner.session_id] += 1
        self._per_user[owner.user_id] += 1

    def give_place(self, owner: Owner) -> None:
        self._per_session[owner.session_id] -= 1
        self._per_user[owner.user_id] -= 1
        if self._per_session[owner.session_id] <= 0:
            del self._per_session[owner.session_id]
        if self._per_user[owner.user_id] <= 0:
            del self._per_user[owner.user_id]

    def add(self, subscriber: Subscriber) -> None:
        self.subscribers.add(subscriber)
        self.freezer.opened(len(self.subscribers))
        metrics.STREAMS_OPENED.inc()
        metrics.STREAMS_OPEN.inc()
        for kind in subscriber.kinds:
            metrics.STREAMS_OPEN_FOR_KIND.labels(kind).inc()

    def remove(self, subscriber: Subscriber) -> None:
        if subscriber not in self.subscribers:
            return
        self.subscribers.discard(subscriber)
        self.freezer.closed(len(self.subscribers))
        if subscriber.owner is not None:
            self.give_place(subscriber.owner)
        metrics.STREAMS_OPEN.dec()
        for kind in subscriber.kinds:
            metrics.STREAMS_OPEN_FOR_KIND.labels(kind).dec()

    def deliver(self, events: list[Event]) -> None:
        """Queue a batch of events for every stream that may see them, then write each stream's
        share as one chunk."""
        subscribers = self.subscribers
        for event in events:
            for subscriber in subscribers:
                subscriber.offer(event)
        for subscriber in subscribers:
            if subscriber.frames:
                subscriber.flush()

    def resync_all(self, cursor: int, reason: str) -> None:
        """Every stream re-fetches its page from `cursor` on (key of RESYNC_REASONS)."""
        frame = resync_frame(cursor, reason)
        for subscriber in self.subscribers:
            subscriber.cursor = max(subscriber.cursor, cursor)
            subscriber.frames.append(frame)
        self.stats.resynced(reason, len(self.subscribers))

    def broadcast(self, frame: bytes) -> int:
        """Write `frame` to every open stream now, whoever holds it; returns how many. A frame
        without an `id:` line moves no page's cursor (development's `dev_reload`)."""
        for subscriber in self.subscribers:
            subscriber.frames.append(frame)
            subscriber.flush()
        return len(self.subscribers)

    def close_where(self, ended: Callable[[Owner], bool] | None = None) -> int:
        """End the streams whose owner is `ended` (every stream when None); returns how many.
        Pages reconnect and resume from their cursor."""
        closing = [
            s for s in self.subscribers if ended is None or (s.owner is not None and ended(s.owner))
        ]
        for subscriber in closing:
            subscriber.close()
        return len(closing)

    def owners(self) -> set[Owner]:
        return {s.owner for s in self.subscribers if s.owner is not None}

    def regrant(
        self, new_owners: dict[Owner, tuple[Owner, Visible, frozenset[str]]], cursor: int
    ) -> list[Subscriber]:
        """Each stream of an owner in `new_owners` now belongs to the new owner and takes only
        what its new `visible` lets through; what it had queued under the old rules is dropped
        for one resync at `cursor`, which makes its page re-fetch what it may still see. Returns
        the streams that changed."""
        changed = []
        for subscriber in list(self.subscribers):
            new = new_owners.get(subscriber.owner) if subscriber.owner is not None else None
            if new is None or subscriber.closed:
                continue
            owner, visible, kinds = new
            for kind in subscriber.kinds:
                metrics.STREAMS_OPEN_FOR_KIND.labels(kind).dec()
            for kind in kinds:
                metrics.STREAMS_OPEN_FOR_KIND.labels(kind).inc()
            subscriber.owner, subscriber.visible, subscriber.kinds = owner, visible, kinds
            subscriber.frames.clear()
            subscriber.pending = 0
            subscriber.cursor = max(subscriber.cursor, cursor)
            subscriber.frames.append(resync_frame(cursor, "permissions"))
            self.stats.resynced("permissions")
            subscriber.flush()
            changed.append(subscriber)
        return changed

    def sync_metrics(self) -> None:
        """Add the frames handed to streams since the last call to their Prometheus counter."""
        delivered = self.stats.delivered
        if delivered > self._delivered_counted:
            metrics.EVENTS_DELIVERED.inc(delivered - self._delivered_counted)
            self._delivered_counted = delivered

    async def beat(self) -> None:
        """A heartbeat comment on every stream that has had nothing for `heartbeat_s`, from one
        timer for all of them."""
        while True:
            await asyncio.sleep(self.heartbeat_s / 4)
            quiet_since = time.monotonic() - self.heartbeat_s
            for subscriber in list(self.subscribers):
                if subscriber.last_write <= quiet_since and not subscriber.frames:
                    subscriber.frames.append(HEARTBEAT)
                    subscriber.flush()
            self.sync_metrics()  # frames that waited for slow clients went out meanwhile
