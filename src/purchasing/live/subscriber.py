"""One open stream: a bounded backlog of frames, written to its connection by whoever has news.

No task or generator per stream: the hub writes each frame straight to the connection. Where the
server allows it, that is a chunk written to the connection itself (a `DirectWriter`: under
uvicorn, `serving/chunks.py`); otherwise, and whenever the client is not keeping up, it is the
connection's ASGI `send`. That coroutine nearly always finishes at once (the transport takes the
bytes), so it is run in place through the coroutine protocol, with no task; only when a slow
client makes the transport pause does the rest of it wait, on the future it yielded, while later
frames gather in the backlog. A backlog that outgrows the limit becomes a single `resync`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Protocol, cast

from purchasing import metrics
from purchasing.domain.actor import Actor
from purchasing.live.events import Event, resync_frame

log = logging.getLogger("purchasing.live")

Visible = Callable[[Event], bool]
Send = Callable[[Any], Awaitable[None]]
Sending = Coroutine[Any, None, None]  # what calling an ASGI send gives: its coroutine


class DirectWriter(Protocol):
    """Writes body chunks straight to one connection whose response has started."""

    @property
    def ready(self) -> bool:
        """A chunk can go now: still connected, and the client keeping up."""

    @property
    def gone(self) -> bool:
        """The client has left."""

    def write(self, body: bytes) -> None: ...


@dataclass(frozen=True)
class Owner:
    """Who holds a stream: the session it was opened with, and that session's user as the rules
    saw them when the stream opened or last followed a change of their permissions."""

    session_id: str
    actor: Actor

    @property
    def user_id(self) -> int:
        return self.actor.id

    @property
    def company_id(self) -> int | None:
        return self.actor.company_id


@dataclass
class HubStats:
    """The hub's counts, kept as integers for `/health` and tests; each also moves its
    Prometheus metric (`delivered`, counted on the fan-out's hot path, in batches)."""

    events_read: int = 0
    delivered: int = 0  # event frames handed to connections as they happened
    replayed: int = 0
    resyncs: int = 0
    slow_drops: int = 0
    slow_writes: int = 0  # writes that had to wait for a client not keeping up

    def resynced(self, reason: str, streams: int = 1) -> None:
        self.resyncs += streams
        metrics.RESYNCS.labels(reason).inc(streams)

    def replayed_events(self, count: int) -> None:
        self.replayed += count
        metrics.EVENTS_REPLAYED.inc(count)

    def dropped_slow(self) -> None:
        self.slow_drops += 1
        metrics.SLOW_CLIENTS_DROPPED.inc()
        self.resynced("slow")


class Subscriber:
    __slots__ = (
        "busy",
        "closed",
        "cursor",
        "direct",
        "ended",
        "frames",
        "kinds",
        "last_write",
        "limit",
        "owner",
        "pending",
        "send",
        "stats",
        "visible",
    )

    def __init__(
        self,
        visible: Visible,
        cursor: int,
        limit: int,
        stats: HubStats,
        owner: Owner | None = None,
        kinds: frozenset[str] = frozenset(),
    ) -> None:
        self.visible = visible
        self.owner = owner
        self.kinds = kinds  # the kinds whose events it may receive, for the metrics
        self.cursor = cursor
        self.limit = limit
        self.stats = stats
        self.frames: list[bytes] = []
        self.pending = 0  # live event frames among `frames`
        # Until `start`, frames only gather (replay, or a test reading them with `take`).
        self.send: Send | None = None
        self.direct: DirectWriter | None = None
        self.busy = False
        self.closed = False
        self.ended = False
        self.last_write = 0.0

    def offer(self, event: Event) -> bool:
        """Queue `event` if this stream may see it and has not yet; True when queued."""
        if event.id <= self.cursor or not self.visible(event):
            return False
        self.cursor = event.id
        if len(self.frames) >= self.limit:
            self.frames.clear()
            self.pending = 0
            self.frames.append(resync_frame(event.id, "slow"))
            self.stats.dropped_slow()
            log.warning(
                "stream too slow: backlog of %d dropped, resync sent",
                self.limit,
                extra={"event_id": event.id, "user_id": self.owner.user_id if self.owner else None},
            )
        else:
            self.frames.append(event.frame)
            self.pending += 1
        return True

    def take(self) -> bytes:
        """Everything queued, as one chunk."""
        chunk = b"".join(self.frames)
        self.frames.clear()
        self.stats.delivered += self.pending
        self.pending = 0
        return chunk

    def start(self, send: Send, first: bytes, direct: DirectWriter | None = None) -> None:
        """Connect the stream, its response having started: `first`, then whatever gathered,
        go out now. `direct` writes to the connection's transport when it can take the bytes."""
        self.send = send
        self.direct = direct
        self.frames.insert(0, first)
        self.flush()

    def flush(self) -> None:
        """Write the backlog as one chunk, unless a write is still under way (it flushes again
        when done) or the stream has ended."""
        if self.send is None or self.busy or self.ended or not (self.frames or self.closed):
            return
        if self.direct is not None and not self.closed:
            if self.direct.ready:
                self.last_write = time.monotonic()
                self.direct.write(self.take())
                return
            if not self.direct.gone:
                self.stats.slow_writes += 1
        body = self.take()
        self.ended = self.closed
        self.busy = True
        self.last_write = time.monotonic()
        message = {"type": "http.response.body", "body": body, "more_body": not self.ended}
        self._step(cast(Sending, self.send(message)))

    def _step(self, sending: Sending) -> None:
        """Run the write on until it finishes or has to wait; when it waits (on a future, as a
        coroutine under asyncio does), it goes on once that future is done, which hands it the
        outcome itself. Public coroutine and future protocol only: no task of its own."""
        try:
            waiting = sending.send(None)
        except StopIteration:
            self._written()
            return
        except (Exception, asyncio.CancelledError) as error:  # cancelled: the server is stopping
            self._failed(error)
            return
        if waiting is None:  # a bare yield: go on at the next turn of the loop
            asyncio.get_running_loop().call_soon(self._step, sending)
        else:  # a client not keeping up: later frames gather meanwhile
            waiting.add_done_callback(lambda _: self._step(sending))

    def _written(self) -> None:
        self.busy = False
        self.flush()

    def _failed(self, error: BaseException) -> None:
        """The connection is gone: stop writing to it."""
        log.debug("stream write failed: %r", error)
        self.busy = False
        self.closed = self.ended = True
        self.frames.clear()
        self.pending = 0

    def close(self) -> None:
        """End the stream after what is queued; the page reconnects and resumes."""
        self.closed = True
        self.flush()
