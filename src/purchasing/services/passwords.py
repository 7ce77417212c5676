"""Password hashing off the event loop that carries every live stream, a bounded amount at once.

One argon2 verification takes about a quarter of a second of CPU with the default profile. On
the event loop, a hundred sign-ins would stall every page and stream for seconds; here they run
on a small pool of threads (argon2 releases the GIL), and a sign-in that would have to wait
behind too many others is refused at once (`Busy`) instead of piling up.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from typing import TypeVar

from argon2 import Parameters, PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError

from purchasing.i18n import _
from purchasing.settings import PASSWORD_PROFILES, Settings

PROFILES: dict[str, Parameters] = {name: getattr(profiles, name) for name in PASSWORD_PROFILES}
DEFAULT_PROFILE = Settings.password_profile
T = TypeVar("T")


@cache
def hasher(profile: str = DEFAULT_PROFILE) -> PasswordHasher:
    """argon2 with the parameters of `profile` (a PASSWORD_PROFILE)."""
    return PasswordHasher.from_parameters(PROFILES[profile])


def hash_password(password: str, profile: str = DEFAULT_PROFILE) -> str:
    """`password` hashed with `profile` (blocking: run it on a thread)."""
    return hasher(profile).hash(password)


@cache
def dummy_hash(profile: str) -> str:
    """Verified against when the username is unknown, so both failures take as long. Made when
    first needed, on a hashing thread: every process start would otherwise pay for it."""
    return hash_password("not-a-real-password", profile)


class Busy(Exception):
    """Too many sign-ins are already waiting for a hashing thread."""


class Passwords:
    """At most `threads` hashes at once, and at most `waiting` more queued behind them; new
    hashes use `profile`."""

    def __init__(self, threads: int = 1, waiting: int = 50, profile: str = DEFAULT_PROFILE) -> None:
        self.profile = profile
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="passwords")
        self._slots = threading.BoundedSemaphore(threads + waiting)

    async def verify(self, stored: str | None, password: str) -> bool:
        """Whether `password` matches the `stored` hash (never, when None, but in as long);
        raises Busy when the queue is full."""
        return await self._run(self._matches, stored, password)

    async def hash(self, password: str) -> str:
        return await self._run(hash_password, password, self.profile)

    async def upgraded(self, stored: str, password: str) -> str | None:
        """A new hash of `password` (just verified against `stored`) when `stored` was made with
        other parameters than this profile's, else None: a stronger profile reaches every account
        at its next sign-in."""
        if not hasher(self.profile).check_needs_rehash(stored):
            return None
        return await self.hash(password)

    def _matches(self, stored: str | None, password: str) -> bool:
        try:
            checked = stored or dummy_hash(self.profile)
            return hasher(self.profile).verify(checked, password) and stored is not None
        except (VerificationError, InvalidHashError):
            return False

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
