"""What every broker does: the in-process default (`Broker`), and for brokers that cross processes
(`NetworkBroker`) one listening connection kept up with back-off, announcements sent from a task
of their own, and the outage logged once and its end logged when it comes."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

log = logging.getLogger("purchasing.broker")
CHANNEL = "purchasing_outbox"
# PostgreSQL's longest identifier: LISTEN cuts a longer channel name, and pg_notify refuses it.
MAX_CHANNEL_BYTES = 63
RECONNECT_DELAYS_S = (0.2, 0.5, 1.0, 2.0)
CONNECT_TIMEOUT_S = 2.0
# How often an idle LISTEN connection is checked, so a silently dead one is noticed.
KEEPALIVE_S = 5.0
MAX_SHARED = 1000  # presence messages queued while the broker is slow; beyond, the next beat

# Called with the newest event id a broker heard of, or None for "catch up now".
Wake = Callable[[int | None], None]
# Called with a presence message another process shared (live/presence.py).
Heard = Callable[[str], None]
# Presence messages travel on the same channel as event ids, marked by this first character.
PRESENCE_MARK = "p"


@dataclass
class BrokerStats:
    announced: int = 0
    heard: int = 0
    outages: int = 0
    shared: int = 0  # presence messages sent
    shared_bytes: int = 0


def channel_of(namespace: str) -> str:
    """The channel of one deployment. Redis has one set of pub/sub channels per server, whatever
    the database a URL names, so the namespace is what keeps deployments apart. A name past
    PostgreSQL's identifier limit is shortened to a hash of the namespace."""
    name = f"{CHANNEL}:{namespace}"
    if len(name.encode()) <= MAX_CHANNEL_BYTES:
        return name
    return f"{CHANNEL}:{hashlib.sha256(namespace.encode()).hexdigest()[:32]}"


def where(url: str) -> str:
    """The URL without credentials, for logs and messages; never fails."""
    parts = urlsplit(url)
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        port = ""
    return f"{parts.scheme}://{parts.hostname or ''}{port}"


class Broker:
    """The in-process default: nothing crosses processes, so there is nothing to send."""

    crosses_processes = False
    channel = ""

    def __init__(self, url: str = "memory://") -> None:
        self.url = url
        self.stats = BrokerStats()

    @property
    def connected(self) -> bool:
        return True

    async def start(self, wake: Wake, presence: Heard | None = None) -> None:
        return None

    def announce(self, event_id: int) -> None:
        """Tell the other processes that events up to `event_id` are committed."""
        return None

    def share(self, message: str) -> None:
        """Send a presence message to the other processes (none here)."""
        return None

    async def stop(self) -> None:
        return None


class NetworkBroker(Broker):
    """Keeps one listening connection up (reconnecting with back-off) and announces from a
    separate task, newest id only, so a burst of commits costs one message and a slow broker never
    holds up a request."""

    crosses_processes = True

    def __init__(self, url: str, namespace: str) -> None:
        super().__init__(url)
        self.channel = channel_of(namespace)
        self._wake: Wake = lambda _: None
        self._presence: Heard = lambda _: None
        self._shared: list[str] = []  # presence messages waiting to go out
        self._pending = 0
        self._published = 0
        self._announcing = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._down_since: float | None = None
        self._listening = False
        self._announce_failing = False

    @property
    def connected(self) -> bool:
        return self._listening

    async def start(self, wake: Wake, presence: Heard | None = None) -> None:
        self._wake = wake
        if presence is not None:
            self._presence = presence
        self._tasks = [
            asyncio.create_task(self._listen_forever(), name="broker-listener"),
            asyncio.create_task(self._announce_forever(), name="broker-announcer"),
        ]

    def announce(self, event_id: int) -> None:
        self._pending = max(self._pending, event_id)
        self._announcing.set()

    def share(self, message: str) -> None:
        """Queue a presence message for the announcer's task; a broker that is down drops it (the
        next heartbeat carries the same state)."""
        if len(self._shared) < MAX_SHARED:
            self._shared.append(PRESENCE_MARK + message)
        self._announcing.set()

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        # Each gets CONNECT_TIMEOUT_S to close its connection: a client library stuck there
        # must not hold the process's shutdown.
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=CONNECT_TIMEOUT_S)
        if self._pending > self._published:  # the last announcement never went out: send it now
            with contextlib.suppress(Exception):  # if it cannot, the others catch up on their timer
                await asyncio.wait_for(self._publish(str(self._pending)), CONNECT_TIMEOUT_S)
        await self._close()

    async def _listen_forever(self) -> None:
        failures = 0
        while True:
            began = time.monotonic()
            try:
                await self._listen(self._listening_again)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                self._lost(error)
            # A connection that held retries at once; one that failed or flapped backs off.
            failures = 0 if time.monotonic() - began > KEEPALIVE_S else failures + 1
            await asyncio.sleep(RECONNECT_DELAYS_S[min(failures, len(RECONNECT_DELAYS_S) - 1)])

    def _listening_again(self) -> None:
        """Subscribed: whatever was announced while we were away is read from the outbox now."""
        self._listening = True
        if self._down_since is not None:
            log.warning(
                "broker %s reachable again after %.1f s; live wake-ups resume",
                where(self.url),
                time.monotonic() - self._down_since,
            )
            self._down_since = None
        self._wake(None)

    def _lost(self, error: BaseException) -> None:
        self._listening = False
        if self._down_since is None:
            self._down_since = time.monotonic()
            self.stats.outages += 1
            log.warning(
                "broker %s unreachable (%s); catching up from the outbox on the timer until it "
                "returns",
                where(self.url),
                describe(error),
            )

    def _heard(self, payload: Any) -> None:
        self.stats.heard += 1
        if isinstance(payload, bytes):
            payload = payload.decode(errors="replace")
        if isinstance(payload, str) and payload.startswith(PRESENCE_MARK):
            self._presence(payload[len(PRESENCE_MARK) :])
            return
        try:
            self._wake(int(payload))
        except (TypeError, ValueError):
            self._wake(None)

    async def _announce_forever(self) -> None:
        while True:
            await self._announcing.wait()
            self._announcing.clear()
            pending = self._pending
            shared, self._shared = self._shared, []
            announcing = pending > self._published
            try:
                if announcing:
                    await self._publish(str(pending))
                for message in shared:
                    await self._publish(message)
                    self.stats.shared += 1
                    self.stats.shared_bytes += len(message.encode())
            except asyncio.CancelledError:
                raise
            except Exception as error:
                if not self._announce_failing:
                    log.warning(
                        "could not announce event %d through %s (%s); other processes will "
                        "catch up on their timer",
                        self._pending,
                        where(self.url),
                        describe(error),
                    )
                self._announce_failing = True
                await self._reset_publisher()
            else:
                self.stats.announced += announcing
                self._published = max(self._published, pending)
                self._announce_failing = False

    async def _listen(self, subscribed: Callable[[], None]) -> None:
        """Subscribe, call `subscribed`, then pass each message to `_heard` until the connection
        fails (raise)."""
        raise NotImplementedError

    async def _publish(self, payload: str) -> None:
        """Send `payload` (an event id, or a marked presence message) on the channel."""
        raise NotImplementedError

    async def _reset_publisher(self) -> None:
        return None

    async def _close(self) -> None:
        return None


def describe(error: BaseException) -> str:
    return str(error) or type(error).__name__
