"""Password hashing off the event loop that carries every live stream, a bounded amount at once.

One argon2 verification takes about a tenth of a second of CPU. On the event loop, a hundred
sign-ins would stall every page and stream for seconds; here they run on a small pool of
threads (argon2 releases the GIL), and a sign-in that would have to wait behind too many others
is refused at once (`Busy`) instead of piling up.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from typing import TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from purchasing.i18n import _

HASHER = PasswordHasher()
T = TypeVar("T")


@cache
def dummy_hash() -> str:
    """Verified against when the username is unknown, so both failures take as long. Made when
    first needed, on a hashing thread: every process start would otherwise pay for it."""
    return HASHER.hash("not-a-real-password")


class Busy(Exception):
    """Too many sign-ins are already waiting for a hashing thread."""


class Passwords:
    """At most `threads` hashes at once, and at most `waiting` more queued behind them."""

    def __init__(self, threads: int = 1, waiting: int = 50) -> None:
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="passwords")
        self._slots = threading.BoundedSemaphore(threads + waiting)

    async def verify(self, stored: str | None, password: str) -> bool:
        """Whether `password` matches the `stored` hash (never, when None, but in as long);
        raises Busy when the queue is full."""
        return await self._run(_matches, stored, password)

    async def hash(self, password: str) -> str:
        return await self._run(HASHER.hash, password)

    async def _run(self, work: Callable[..., T], *args: str | None) -> T:
        if not self._slots.acquire(blocking=False):
            raise Busy(_("The server is busy signing other people in. Try again in a few seconds."))
        try:
            done = self._pool.submit(work, *args)
        except BaseException:
            self._slots.release()
            raise
        # Freed when the thread is done, even if the request waiting for it was cancelled.
        done.add_done_callback(lambda _: self._slots.release())
        return await asyncio.wrap_future(done)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


def _matches(stored: str | None, password: str) -> bool:
    try:
        return HASHER.verify(stored or dummy_hash(), password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False
