"""One outbox reader per process feeding every local stream; replay from a ring of recent events."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections import Counter, deque
from collections.abc import Callable
from datetime import timedelta

from purchasing import metrics
from purchasing.domain.statuses import Kind
from purchasing.live import outbox
from purchasing.live.broker import Broker
from purchasing.live.events import HEARTBEAT, Event, Wording, from_row, resync_frame
from purchasing.live.recent import Recent
from purchasing.live.subscriber import HubStats, Owner, Subscriber, Visible

log = logging.getLogger("purchasing.live")
CURSOR = re.compile(r"[0-9]{1,18}")
STOP_TIMEOUT_S = 5.0
LAG_TIMEOUT_S = 2.0  # a database slower than this to say how far behind we are is unreachable
ALL_KINDS = frozenset(kind.value for kind in Kind)


class TooManyStreams(Exception):
    """A session or a user already holds as many open streams as allowed; the message says
    which and what to do, `retry_after_s` how long the page should wait before asking again."""

    retry_after_s = 30

    @classmethod
    def per_session(cls, limit: int) -> TooManyStreams:
        return cls(
            f"Paused: this browser already has {limit} live connections to this site. "
            "Close some of its tabs; this page tries again in a moment."
        )

    @classmethod
    def per_user(cls, limit: int) -> TooManyStreams:
        return cls(
            f"Paused: your account already has {limit} live connections to this site. "
            "Close some of its tabs, here or on other devices; this page tries again in a moment."
        )


class Hub:
    """Reads the outbox when a local commit or the broker says there is news, and at least
    every `catch_up_s` in any case; every `prune_every_s` it also prunes the outbox (one
    process at a time) to `retention` events and `max_age`."""

    def __init__(
        self,
        *,
        wording: Wording,
        queue_limit: int,
        retention: int,
        catch_up_s: float,
        heartbeat_s: float = 15.0,
        max_age: timedelta = timedelta(hours=24),
        prune_every_s: float = 600.0,
        broker: Broker | None = None,
        streams_per_session: int = 20,
        streams_per_user: int = 100,
        refused_retry_s: int = 30,
    ) -> None:
        self.wording = wording
        self.queue_limit = queue_limit
        self.streams_per_session = streams_per_session
        self.streams_per_user = streams_per_user
        self.refused_retry_s = refused_retry_s
        self._per_session: Counter[str] = Counter()
        self._per_user: Counter[int] = Counter()
        self.retention = retention
        self.max_age = max_age
        self.prune_every_s = prune_every_s
        self.catch_up_s = catch_up_s
        self.heartbeat_s = heartbeat_s
        self.broker = broker or Broker()
        self.ring: deque[Event] = deque(maxlen=queue_limit * 4)
        self.last_id = 0
        self.subscribers: set[Subscriber] = set()
        self.stats = HubStats()
        self.recent = Recent()
        self.last_read_at = 0.0  # time.monotonic() of the last read of the outbox that succeeded
        self._delivered_counted = 0
        self._started = False
        self._wake = asyncio.Event()
        self._reading = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._beating: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping = False

    async def start(self) -> None:
        """Load the recent events for replay, then follow the outbox."""
        self._loop = asyncio.get_running_loop()
        newest = await outbox.newest_id()
        self.last_id = max(newest - self.ring.maxlen, 0) if self.ring.maxlen else newest
        await self.poll()
        self._started = True  # events read from now on are news: their delays count
        await self.broker.start(self.notify)
        self._task = asyncio.create_task(self._follow(), name="outbox-reader")
        self._beating = asyncio.create_task(self._beat(), name="heartbeats")

    @property
    def reading(self) -> bool:
        """The outbox reader runs and has read the outbox within the last few catch-up rounds."""
        if self._task is None or self._task.done() or self._stopping:
            return False
        return time.monotonic() - self.last_read_at < max(3 * self.catch_up_s, 5.0)

    async def lag(self, timeout_s: float = LAG_TIMEOUT_S) -> tuple[int, float]:
        """How far this process's reader is behind the outbox: committed events it has not read,
        and the age in seconds of the oldest of them (0 when it is up to date). A database that
        has not answered within `timeout_s` raises TimeoutError."""
        async with asyncio.timeout(timeout_s):
            newest = await outbox.newest_id()
            if newest <= self.last_id:
                return 0, 0.0
            written = await outbox.written_at(self.last_id + 1)
        age = time.time() - written.timestamp() if written else 0.0
        return newest - self.last_id, max(age, 0.0)

    def sync_metrics(self) -> None:
        """Add the frames handed to streams since the last call to their Prometheus counter."""
        delivered = self.stats.delivered
        if delivered > self._delivered_counted:
            metrics.EVENTS_DELIVERED.inc(delivered - self._delivered_counted)
            self._delivered_counted = delivered

    def committed(self, event_id: int, row: outbox.Row | None = None) -> None:
        """A change committed in this process (`row`: its event as written, when known). When it
        is the very next event and no read is under way, it goes out now, straight from the
        commit; otherwise the reader reads it."""
        if not self._started:
            return  # the reader reads it when it starts
        if row is not None and event_id == self.last_id + 1 and not self._reading.locked():
            self._dispatch([from_row(row, self.wording)])
        else:
            self._wake.set()
        self.broker.announce(event_id)

    def notify(self, event_id: int | None) -> None:
        """The broker heard of events up to `event_id` (None: unknown, read anyway)."""
        if event_id is None or event_id > self.last_id:
            self._wake.set()

    async def stop(self) -> None:
        """End the streams, then let the reader finish the read it may be in."""
        self.close_streams()
        self._started = False  # commits from now on are not this hub's to tell
        self._stopping = True
        self._wake.set()
        if self._beating:
            self._beating.cancel()
        if self._task:
            try:
                await asyncio.wait_for(self._task, STOP_TIMEOUT_S)
            except TimeoutError:
                log.warning("outbox reader did not stop within %.0f s", STOP_TIMEOUT_S)
        await self.broker.stop()

    def close_streams(self) -> None:
        """End every open stream now; pages reconnect and resume from their cursor."""
        for subscriber in list(self.subscribers):
            subscriber.close()

    def broadcast(self, frame: bytes) -> int:
        """Write `frame` to every open stream now, whoever holds it; returns how many. A frame
        without an `id:` line moves no page's cursor (development's `dev_reload`)."""
        for subscriber in self.subscribers:
            subscriber.frames.append(frame)
            subscriber.flush()
        return len(self.subscribers)

    def close_streams_of(self, ended: Callable[[Owner], bool]) -> int:
        """End the streams whose owner is `ended`; returns how many."""
        closing = [s for s in self.subscribers if s.owner is not None and ended(s.owner)]
        for subscriber in closing:
            subscriber.close()
        return len(closing)

    def close_streams_threadsafe(self) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self.close_streams)

    async def _follow(self) -> None:
        """Read new events when woken, and on the timer for wake-ups that never came."""
        loop = asyncio.get_running_loop()
        next_prune = loop.time() + self.prune_every_s
        while not self._stopping:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.catch_up_s)
            self._wake.clear()
            try:
                await self.poll()
                if loop.time() >= next_prune:
                    next_prune = loop.time() + self.prune_every_s
                    await self.prune()
            except Exception:
                log.exception("outbox reader failed; retrying in %.1f s", self.catch_up_s)

    async def prune(self) -> int | None:
        """Prune the outbox unless another process is at it, then forget from the replay ring
        whatever the outbox no longer keeps, so every process answers an old cursor alike."""
        deleted = await outbox.prune(self.retention, self.max_age)
        if deleted:
            log.info("pruned %d events from the outbox", deleted)
        oldest = await outbox.oldest_id()
        while self.ring and self.ring[0].id < oldest:
            self.ring.popleft()
        return deleted

    async def poll(self) -> int:
        """Read every committed event after the last one seen, dispatch it, return the newest id.

        Reads in batches of half a stream's queue, letting streams write between batches, so a
        burst overflows only the streams that really cannot keep up."""
        batch = max(self.queue_limit // 2, 1)
        async with self._reading:
            while True:
                rows = await outbox.read_after(self.last_id, batch)
                if rows and self.last_id and rows[0]["id"] != self.last_id + 1:
                    self._missed(self.last_id + 1, int(rows[0]["id"]) - 1)
                self._dispatch([from_row(row, self.wording) for row in rows])
                if len(rows) < batch:
                    self.last_read_at = time.monotonic()
                    return self.last_id
                await asyncio.sleep(0)

    def _dispatch(self, events: list[Event]) -> None:
        """Queue a batch of events for every stream that may see them, then write each stream's
        share as one chunk."""
        for event in events:
            self.ring.append(event)
            self.last_id = event.id
            self.stats.events_read += 1
            for subscriber in self.subscribers:
                subscriber.offer(event)
        if not events:
            return
        for subscriber in self.subscribers:
            if subscriber.frames:
                subscriber.flush()
        if self._started:
            self._account(events)

    def _account(self, events: list[Event]) -> None:
        """Count what a dispatch read and delivered; each event's delay runs from its commit
        until now, when this process has written it to every stream that could take it."""
        self.sync_metrics()
        now = time.time()
        reached = bool(self.subscribers)
        for event in events:
            metrics.EVENTS_READ.labels(event.type).inc()
            delay = max(now - event.committed_at, 0.0)
            if reached:
                metrics.DELIVERY_DELAY.observe(delay)
            self.recent.add(event, now, delay if reached else None)

    def _missed(self, first: int, last: int) -> None:
        """Events this process never read were pruned (it fell behind, or retention is tiny):
        no stream can be told what they were, so every stream gets a resync."""
        log.warning(
            "events %d to %d were pruned before this process read them; resync sent to %d streams",
            first,
            last,
            len(self.subscribers),
            extra={"event_id": last},
        )
        self.ring.clear()
        self.last_id = last
        frame = resync_frame(last, "pruned")
        for subscriber in self.subscribers:
            subscriber.cursor = max(subscriber.cursor, last)
            subscriber.frames.append(frame)
        self.stats.resynced("pruned", len(self.subscribers))

    async def _beat(self) -> None:
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

    async def subscribe(
        self,
        visible: Visible,
        cursor: str | None,
        owner: Owner | None = None,
        kinds: frozenset[str] = ALL_KINDS,
    ) -> Subscriber:
        """A stream resuming after `cursor`; a cursor we cannot honour gets one resync instead.
        `kinds` are those `visible` may let through (for the metrics). An owner already holding
        as many streams as allowed (per session, per user) gets TooManyStreams."""
        if owner is not None:
            self._take_place(owner)
        try:
            return await self._subscribe(visible, cursor, owner, kinds)
        except BaseException:
            if owner is not None:
                self._give_place(owner)
            raise

    def _take_place(self, owner: Owner) -> None:
        """Count a stream for its owner now, before anything awaits: streams opened at the same
        moment cannot all slip under the limit."""
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

    def _give_place(self, owner: Owner) -> None:
        self._per_session[owner.session_id] -= 1
        self._per_user[owner.user_id] -= 1
        if self._per_session[owner.session_id] <= 0:
            del self._per_session[owner.session_id]
        if self._per_user[owner.user_id] <= 0:
            del self._per_user[owner.user_id]

    async def _subscribe(
        self, visible: Visible, cursor: str | None, owner: Owner | None, kinds: frozenset[str]
    ) -> Subscriber:
        after = parse_cursor(cursor)
        if after is not None and after > self.last_id:
            await self.poll()  # a page rendered by a process that read further than ours
        subscriber = Subscriber(visible, self.last_id, self.queue_limit, self.stats, owner, kinds)
        reason = (
            "invalid_cursor" if cursor and after is None else self._replay_into(subscriber, after)
        )
        if reason:
            subscriber.frames.append(resync_frame(self.last_id, reason))
            self.stats.resynced(reason)
        self.subscribers.add(subscriber)
        metrics.STREAMS_OPENED.inc()
        metrics.STREAMS_OPEN.inc()
        for kind in kinds:
            metrics.STREAMS_OPEN_FOR_KIND.labels(kind).inc()
        return subscriber

    def _replay_into(self, subscriber: Subscriber, after: int | None) -> str:
        """Queue the events after `after`; return why a resync is needed instead (a key of
        RESYNC_REASONS), or ''."""
        if after is None:
            return ""
        if after > self.last_id:
            return "cursor_ahead"
        oldest_kept = self.ring[0].id if self.ring else self.last_id + 1
        if after < oldest_kept - 1:
            return "history_gone"
        missed = [e for e in self.ring if e.id > after and subscriber.visible(e)]
        if len(missed) > self.queue_limit:
            return "too_many_missed"
        subscriber.frames.extend(e.frame for e in missed)
        self.stats.replayed_events(len(missed))
        return ""

    def unsubscribe(self, subscriber: Subscriber) -> None:
        if subscriber not in self.subscribers:
            return
        self.subscribers.discard(subscriber)
        if subscriber.owner is not None:
            self._give_place(subscriber.owner)
        metrics.STREAMS_OPEN.dec()
        for kind in subscriber.kinds:
            metrics.STREAMS_OPEN_FOR_KIND.labels(kind).dec()

    def reissue(
        self, subscriber: Subscriber, owner: Owner, visible: Visible, kinds: frozenset[str]
    ) -> None:
        """The owner's permissions changed: from now on `subscriber` only takes what `visible`
        lets through. What it had queued under the old rules is dropped for one resync, which
        makes its page re-fetch what it may still see."""
        if subscriber not in self.subscribers or subscriber.owner is None:
            return
        for kind in subscriber.kinds:
            metrics.STREAMS_OPEN_FOR_KIND.labels(kind).dec()
        for kind in kinds:
            metrics.STREAMS_OPEN_FOR_KIND.labels(kind).inc()
        subscriber.owner, subscriber.visible, subscriber.kinds = owner, visible, kinds
        subscriber.frames.clear()
        subscriber.pending = 0
        subscriber.cursor = max(subscriber.cursor, self.last_id)
        subscriber.frames.append(resync_frame(self.last_id, "permissions"))
        self.stats.resynced("permissions")
        subscriber.flush()


def parse_cursor(cursor: str | None) -> int | None:
    """An event id from `Last-Event-ID` or `?after=`; None when absent or not a plain number."""
    if cursor is None or not CURSOR.fullmatch(cursor.strip()):
        return None
    return int(cursor)
