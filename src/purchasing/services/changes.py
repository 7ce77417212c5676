"""The one way in for changes: a write transaction that writes its events to the outbox and, once
it has committed, tells whoever listens (this process's hub, the broker).

    async with changes.changing() as change:
        ...  # read, check, write the purchase
        change.emit(await purchase_changed(...))

A verb cannot forget to tell the hub after its commit, nor tell it of a change that rolled back.
Each app has its own `Changes` (`app.state.changes`; the CLI makes its own): two apps in one
process hear only their own commits.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from purchasing import metrics
from purchasing.db import write_transaction
from purchasing.live import outbox
from purchasing.live.events import PurchaseChanged

log = logging.getLogger("purchasing.live")
# Told of each committed event: its id, and its row (as `outbox.write` returned it, with
# `committed_at`), which a listener may use instead of reading it back.
Listener = Callable[[int, outbox.Row], None]


class Change:
    """What one change transaction will have said once it commits."""

    def __init__(self) -> None:
        self.emitted: list[PurchaseChanged] = []
        self.event_ids: list[int] = []  # the outbox's ids for them, once written

    def emit(self, event: PurchaseChanged) -> None:
        self.emitted.append(event)


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
            rows = [await outbox.write_change(event) for event in change.emitted]
            change.event_ids = [row["id"] for row in rows]
        for row in rows:
            self._committed(row)

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
