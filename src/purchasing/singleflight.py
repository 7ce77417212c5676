"""One run of a piece of work shared by everyone who asks for it while it runs."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


async def shared(running: Callable[[], asyncio.Task[T]]) -> T:
    """The result of the task `running()` returns: the one under way for this piece of work,
    or a new one. The work runs in a task of its own, so a caller that goes away (a client
    that disconnects) never cancels it for the others still waiting; if the task itself was
    cancelled, not this caller, it runs again for them."""
    while True:
        task = running()
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if task.cancelled() and current is not None and not current.cancelling():
                await asyncio.sleep(0)  # let the cancelled run be forgotten first
                continue
            raise


def failed(task: asyncio.Task[T]) -> bool:
    """A run that was cancelled or raised: not one to share, and forgotten once done. Its error
    is marked retrieved (every waiter re-raises it)."""
    return task.done() and (task.cancelled() or task.exception() is not None)
