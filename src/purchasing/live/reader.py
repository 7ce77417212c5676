"""The outbox reader: one per process, reading what committed after the last event it read."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from datetime import timedelta

from purchasing.live import outbox

log = logging.getLogger("purchasing.live")
STOP_TIMEOUT_S = 5.0
LAG_TIMEOUT_S = 2.0  # a database slower than this to say how far behind we are is unreachable


class OutboxReader:
    """Reads the outbox when woken (a local commit, the broker) and at least every `catch_up_s`
    in any case, in batches of `batch`, handing each batch of rows to `read`; every
    `prune_every_s` it also prunes the outbox (one process at a time) to `retention` events and
    `max_age`, then tells `pruned` the oldest id kept. Events it never read because they were
    pruned first go to `missed` (first and last id)."""

    def __init__(
        self,
        *,
        batch: int,
        catch_up_s: float,
        retention: int,
        max_age: timedelta,
        prune_every_s: float,
        read: Callable[[list[outbox.Row]], None],
        missed: Callable[[int, int], None],
        pruned: Callable[[int], None],
    ) -> None:
        self.batch = batch
        self.catch_up_s = catch_up_s
        self.retention = retention
        self.max_age = max_age
        self.prune_every_s = prune_every_s
        self._read, self._missed, self._pruned = read, missed, pruned
        self.last_id = 0
        self.last_read_at = 0.0  # time.monotonic() of the last read of the outbox that succeeded
        self.lock = asyncio.Lock()  # held while a read is under way
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    def start(self) -> None:
        self._task = asyncio.create_task(self._follow(), name="outbox-reader")

    async def stop(self) -> None:
        """Let the reader finish the read it may be in."""
        self._stopping = True
        self._wake.set()
        if self._task:
            try:
                await asyncio.wait_for(self._task, STOP_TIMEOUT_S)
            except TimeoutError:
                log.warning("outbox reader did not stop within %.0f s", STOP_TIMEOUT_S)

    def wake(self) -> None:
        self._wake.set()

    @property
    def reading(self) -> bool:
        """It runs and has read the outbox within the last few catch-up rounds."""
        if self._task is None or self._task.done() or self._stopping:
            return False
        return time.monotonic() - self.last_read_at < max(3 * self.catch_up_s, 5.0)

    async def lag(self, timeout_s: float = LAG_TIMEOUT_S) -> tuple[int, float]:
        """How far behind the outbox it is: committed events it has not read, and the age in
        seconds of the oldest of them (0 when it is up to date). A database that has not answered
        within `timeout_s` raises TimeoutError."""
        async with asyncio.timeout(timeout_s):
            newest = await outbox.newest_id()
            if newest <= self.last_id:
                return 0, 0.0
            written = await outbox.written_at(self.last_id + 1)
        age = time.time() - written.timestamp() if written else 0.0
        return newest - self.last_id, max(age, 0.0)

    async def poll(self) -> int:
        """Read every committed event after the last one read; return the newest id.

        Reads in batches, letting streams write between them, so a burst overflows only the
        streams that really cannot keep up."""
        async with self.lock:
            while True:
                rows = await outbox.read_after(self.last_id, self.batch)
                if rows and self.last_id and rows[0]["id"] != self.last_id + 1:
                    self._missed(self.last_id + 1, int(rows[0]["id"]) - 1)
                self._read(rows)
                if len(rows) < self.batch:
                    self.last_read_at = time.monotonic()
                    return self.last_id
                await asyncio.sleep(0)

    async def prune(self) -> int | None:
        """Prune the outbox unless another process is at it (None)."""
        deleted = await outbox.prune(self.retention, self.max_age)
        if deleted:
            log.info("pruned %d events from the outbox", deleted)
        self._pruned(await outbox.oldest_id())
        return deleted

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
