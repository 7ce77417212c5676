"""The hub: this process's live events, from the outbox to every open stream.

It puts together the three jobs, each in a module of its own: reading the outbox (`reader.py`),
fanning events out to the open streams with their heartbeats and caps (`fanout.py`), and
replaying to a stream that reconnects (`replay.py`). What the rest of the app may ask of it is
below: open and end streams, a page's cursor, catching up to an event a page has seen, the
figures for `/health`, and a monitor's view of it.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from purchasing import metrics
from purchasing.domain.statuses import Kind
from purchasing.live import outbox
from purchasing.live.brokers import Broker
from purchasing.live.events import Event, Wording, from_row, resync_frame
from purchasing.live.fanout import Fanout, Grant
from purchasing.live.presence import Presence
from purchasing.live.reader import LAG_TIMEOUT_S, OutboxReader
from purchasing.live.recent import MinuteSummary, Recent
from purchasing.live.replay import Replay
from purchasing.live.subscriber import HubStats, Owner, Subscriber, Visible

log = logging.getLogger("purchasing.live")
CURSOR = re.compile(r"[0-9]{1,18}")
ALL_KINDS = frozenset(kind.value for kind in Kind)


@dataclass(frozen=True)
class Snapshot:
    """What a monitor is shown of this process: the streams of those it may see, the last
    minutes' events and delays, its newest events, and the hub's counts."""

    streams: int
    streams_per_kind: Counter[str]
    minutes: list[MinuteSummary]
    last_events: list[Event]
    counters: HubStats
    last_id: int


class Hub:
    """This process's outbox reader, open streams and replay, started and stopped together."""

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
        self.broker = broker or Broker()
        self.stats = HubStats()
        self.recent = Recent()
        self.replay = Replay(queue_limit * 4)
        self.fanout = Fanout(
            self.stats,
            heartbeat_s=heartbeat_s,
            streams_per_session=streams_per_session,
            streams_per_user=streams_per_user,
            refused_retry_s=refused_retry_s,
        )
        # Batches of half a stream's queue: a burst overflows only streams that cannot keep up.
        self.reader = OutboxReader(
            batch=max(queue_limit // 2, 1),
            catch_up_s=catch_up_s,
            retention=retention,
            max_age=max_age,
            prune_every_s=prune_every_s,
            read=self._read,
            missed=self._missed,
            pruned=self.replay.forget_before,
        )
        # Who has which purchase open, shared with the other processes through the broker.
        self.presence = Presence(
            uuid.uuid4().hex[:12], self.broker.share, lambda: self.fanout.subscribers
        )
        self._started = False
        self.committed_here = 0  # the newest event committed by this process's changes
        self._beating: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    # --- Life ---

    async def start(self) -> None:
        """Load the recent events for replay, then follow the outbox."""
        self._loop = asyncio.get_running_loop()
        newest = await outbox.newest_id()
        self.reader.last_id = max(newest - self.replay.size, 0)
        await self.reader.poll()
        self._started = True  # events read from now on are news: their delays count
        await self.broker.start(self.notify, self.presence.heard)
        self.reader.start()
        self.presence.start()
        self._beating = asyncio.create_task(self.fanout.beat(), name="heartbeats")

    async def stop(self) -> None:
        """End the streams, then let the reader finish the read it may be in."""
        self.close_streams()
        self._started = False  # commits from now on are not this hub's to tell
        if self._beating:
            self._beating.cancel()
        await self.presence.stop()
        await self.reader.stop()
        await self.broker.stop()

    # --- News of events ---

    def committed(self, event_id: int, row: outbox.Row | None = None) -> None:
        """A change committed in this process (`row`: its event as written, when known). When it
        is the very next event and no read is under way, it goes out now, straight from the
        commit; otherwise the reader reads it."""
        self.committed_here = max(self.committed_here, event_id)
        if not self._started:
            return  # the reader reads it when it starts
        if row is not None and event_id == self.last_id + 1 and not self.reader.lock.locked():
            self._dispatch([from_row(row, self.wording)])
        else:
            self.reader.wake()
        self.broker.announce(event_id)

    def notify(self, event_id: int | None) -> None:
        """The broker heard of events up to `event_id` (None: unknown, read anyway)."""
        if event_id is None or event_id > self.last_id:
            self.reader.wake()

    # --- What pages ask ---

    @property
    def last_id(self) -> int:
        """The newest event this process has read."""
        return self.reader.last_id

    @property
    def known_id(self) -> int:
        """The newest event this process knows of: read, or committed here and not read yet (a
        read was under way). A view's cache key and ETag use it, so the page that made a change
        never gets the view from before it."""
        return max(self.last_id, self.committed_here)

    async def cursor(self) -> int:
        """The newest event committed now, read first: a page built after this misses nothing
        its stream will not bring."""
        return await self.reader.poll()

    async def catch_up(self, seen: int) -> None:
        """A page has seen event `seen`: read that far before answering it, if not yet."""
        if seen > self.last_id:
            await self.reader.poll()

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
            self.fanout.take_place(owner)
        try:
            after = parse_cursor(cursor)
            if after is not None:
                await self.catch_up(after)  # a page rendered by a process that read further
        except BaseException:
            if owner is not None:
                self.fanout.give_place(owner)
            raise
        subscriber = Subscriber(visible, self.last_id, self.queue_limit, self.stats, owner, kinds)
        if cursor and after is None:
            reason = "invalid_cursor"
        else:
            reason = self.replay.into(subscriber, after, self.last_id, self.queue_limit)
        if reason:
            subscriber.frames.append(resync_frame(self.last_id, reason))
            self.stats.resynced(reason)
        self.fanout.add(subscriber)
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        self.fanout.remove(subscriber)

    # --- Ending and changing streams ---

    def close_streams(self) -> None:
        """End every open stream now; pages reconnect and resume from their cursor."""
        self.fanout.close_where()

    def close_streams_threadsafe(self) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self.close_streams)

    def close_streams_of(self, ended: Callable[[Owner], bool]) -> int:
        """End the streams whose owner is `ended`; returns how many."""
        return self.fanout.close_where(ended)

    def broadcast(self, frame: bytes) -> int:
        """Write `frame` to every open stream now; returns how many."""
        return self.fanout.broadcast(frame)

    def owners(self) -> set[Owner]:
        """Who holds the open streams."""
        return self.fanout.owners()

    def regrant(self, new_owners: dict[Owner, Grant]) -> int:
        """The permissions of these owners changed: their streams take the new owner, `visible`
        and kinds from now on, their pages re-fetch what they may still see, and their presence
        is judged again. Returns how many streams changed."""
        changed = self.fanout.regrant(new_owners, self.last_id)
        self.presence.regranted(changed)
        return len(changed)

    # --- Figures ---

    @property
    def subscribers(self) -> set[Subscriber]:
        return self.fanout.subscribers

    @property
    def reading(self) -> bool:
        return self.reader.reading

    async def lag(self, timeout_s: float = LAG_TIMEOUT_S) -> tuple[int, float]:
        return await self.reader.lag(timeout_s)

    def sync_metrics(self) -> None:
        self.fanout.sync_metrics()

    def figures(self) -> dict[str, Any]:
        """This process's own counts, for `/health`."""
        subscribers = self.fanout.subscribers
        return {
            "streams": len(subscribers),
            "direct_streams": sum(s.direct is not None for s in subscribers),
            "last_event_id": self.last_id,
            "hub": vars(self.stats),
            "broker": {
                "crosses_processes": self.broker.crosses_processes,
                "connected": self.broker.connected,
                "channel": self.broker.channel,
                "announced": self.broker.stats.announced,
                "heard": self.broker.stats.heard,
                "outages": self.broker.stats.outages,
                "presence_shared": self.broker.stats.shared,
                "presence_shared_bytes": self.broker.stats.shared_bytes,
            },
        }

    def snapshot(self, company: int | None, visible: Visible, now: float, last: int) -> Snapshot:
        """What a monitor of `company` (None: every company) is shown: the streams of its users,
        its events' minutes, and the newest `last` events `visible` lets through."""
        streams = [
            s
            for s in self.fanout.subscribers
            if company is None or (s.owner is not None and s.owner.company_id == company)
        ]
        return Snapshot(
            streams=len(streams),
            streams_per_kind=Counter(kind for s in streams for kind in s.kinds),
            minutes=self.recent.series(now, company),
            last_events=self.replay.newest(visible, last),
            counters=replace(self.stats),
            last_id=self.last_id,
        )

    # --- Tests and the reader's own rounds ---

    async def poll(self) -> int:
        """Read the outbox now; returns the newest id."""
        return await self.reader.poll()

    async def prune(self) -> int | None:
        return await self.reader.prune()

    # --- Inside ---

    def _read(self, rows: list[outbox.Row]) -> None:
        self._dispatch([from_row(row, self.wording) for row in rows])

    def _dispatch(self, events: list[Event]) -> None:
        """Keep a batch of events for replay, hand it to every stream that may see it, and keep
        presence where the events leave each purchase."""
        if not events:
            return
        self.replay.add(events)
        self.reader.last_id = events[-1].id
        self.stats.events_read += len(events)
        self.fanout.deliver(events)
        self.presence.follow(events)
        if self._started:
            self._account(events)

    def _account(self, events: list[Event]) -> None:
        """Count what a dispatch read and delivered; each event's delay runs from its commit
        until now, when this process has written it to every stream that could take it."""
        self.fanout.sync_metrics()
        now = time.time()
        reached = bool(self.fanout.subscribers)
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
            len(self.fanout.subscribers),
            extra={"event_id": last},
        )
        self.replay.clear()
        self.reader.last_id = last
        self.fanout.resync_all(last, "pruned")


def parse_cursor(cursor: str | None) -> int | None:
    """An event id from `Last-Event-ID` or `?after=`; None when absent or not a plain number."""
    if cursor is None or not CURSOR.fullmatch(cursor.strip()):
        return None
    return int(cursor)
