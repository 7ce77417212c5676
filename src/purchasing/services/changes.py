"""The one way in for changes: a write transaction that writes its events to the outbox and, once
it has committed, tells whoever listens (this process's hub, the broker).

    async with changes.changing() as change:
        ...  # read, check, write the purchase
        change.emit(await purchase_changed(...))

A verb cannot forget to tell the hub after its commit, nor tell it of a change that rolled back.
The hot path (a status change) runs its transaction straight on the driver instead, as a script
of statements (`db_direct`), with the same promise:

    def script(change: Change) -> Script[T]:
        ...  # rows = yield STATEMENT, params
        yield from change.write(event)
    await changes.run(script)

Each app has its own `Changes` (`app.state.changes`; the CLI makes its own): two apps in one
process hear only their own commits.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import TypeVar

from purchasing import db_direct, metrics
from purchasing.db import write_transaction
from purchasing.db_direct import Script
from purchasing.live import outbox
from purchasing.live.events import PurchaseChanged

T = TypeVar("T")
log = logging.getLogger("purchasing.live")
# Told of each committed event: its id, and its row (as `outbox.write` returned it, with
# `committed_at`), which a listener may use instead of reading it back.
Listener = Callable[[int, outbox.Row], None]


class Change:
    """What one change transaction will have said once it commits."""

    def __init__(self) -> None:
        self.emitted: list[PurchaseChanged] = []
        self.event_ids: list[int] = []  # the outbox's ids for them, once written
        self.rows: list[outbox.Row] = []  # their rows, once written

    def emit(self, event: PurchaseChanged) -> None:
        self.emitted.append(event)

    def write(self, event: PurchaseChanged) -> Script[outbox.Row]:
        """In a direct transaction's script: write `event` to the outbox now (do it last: the
        outbox lock is then held for as short a time as possible)."""
        row = yield from outbox.write_direct(event)
        self.emitted.append(event)
        self.event_ids.append(row["id"])
        self.rows.append(row)
        return row


class Changes:
    """This app's change transactions and those listening to their commits; it also counts the
    retried status changes that changed nothing (`suppressed`)."""

    def __init__(self) -> None:
        self._listeners: list[Listener] = []
        self.suppressed = 0

    def on_commit(self, listener: Listener) -> Callable[[], None]:
        """Call `listener` for each event committed from now on; returns an unsubscriber."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    @asynccontextmanager
    async def changing(self) -> AsyncIterator[Change]:
        """One write transaction; the events emitted in it are written last (the outbox lock is
        held for as short a time as possible) and told about after the commit."""
        change = Change()
        async with write_transaction():
            yield change
            change.rows = [await outbox.write_change(event) for event in change.emitted]
            change.event_ids = [row["id"] for row in change.rows]
        for row in change.rows:
            self._committed(row)

    async def run(self, script: Callable[[Change], Script[T]]) -> T:
        """One direct write transaction (`db_direct`): `script(change)` runs in it, and the
        events it wrote with `change.write` are told about after the commit."""
        change = Change()
        result = await db_direct.run(script(change))
        for row in change.rows:
            self._committed(row)
        return result

    def _committed(self, row: outbox.Row) -> None:
        """Never raises: the change has committed, so the request that made it succeeded
        whatever a listener does; a listener's error is logged and counted."""
        row["committed_at"] = time.time()
        metrics.EVENTS_WRITTEN.labels(row["type"]).inc()
        for listener in list(self._listeners):
            try:
                listener(row["id"], row)
            except Exception:
                metrics.COMMIT_LISTENER_ERRORS.inc()
                log.exception("a listener failed after event %d committed", row["id"])
