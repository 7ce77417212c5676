"""Failed logins counted per account and per client address, with counts that hold under
concurrency: a sign-in first takes its place in both counts, atomically, and is refused at once
when that place is past the limit, before any password is hashed.

The counts live in Redis (`INCR`, and an expiry set with the first failure) when sessions do
(`STORE_URL`), so every process and machine shares them; otherwise in this process.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from typing import Protocol

from redis.asyncio import Redis

from purchasing.i18n import ngettext

STORE = "login_attempts"
# INCR and the window's expiry in one step: the first failure starts the window, later ones do
# not extend it, and no count is ever left without an expiry.
_TAKE = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return count
"""
# Give a place back, unless the window ended meanwhile (DECR would recreate it without expiry).
_GIVE_BACK = """
if redis.call('EXISTS', KEYS[1]) == 1 then return redis.call('DECR', KEYS[1]) end
return 0
"""


class Counts(Protocol):
    async def take(self, key: str, window_s: int) -> int:
        """Add one to `key`'s count, starting a window of `window_s` on the first; the new count."""

    async def give_back(self, key: str) -> None:
        """Take one off `key`'s count."""

    async def clear(self, key: str) -> None: ...

    async def sweep(self) -> int:
        """Forget counts whose window ended; returns how many."""


class MemoryCounts:
    """Counts in this process: atomic because nothing awaits between reading and writing."""

    def __init__(self) -> None:
        self._counts: dict[str, tuple[int, float]] = {}  # key -> (count, when its window ends)

    async def take(self, key: str, window_s: int) -> int:
        now = time.monotonic()
        count, ends = self._counts.get(key, (0, 0.0))
        if ends <= now:
            count, ends = 0, now + window_s
        self._counts[key] = (count + 1, ends)
        return count + 1

    async def give_back(self, key: str) -> None:
        count, ends = self._counts.get(key, (0, 0.0))
        if count > 1:
            self._counts[key] = (count - 1, ends)
        else:
            self._counts.pop(key, None)

    async def clear(self, key: str) -> None:
        self._counts.pop(key, None)

    async def sweep(self) -> int:
        now = time.monotonic()
        ended = [key for key, (_, ends) in self._counts.items() if ends <= now]
        for key in ended:
            del self._counts[key]
        return len(ended)


class RedisCounts:
    """Counts in Redis, shared by every process; Redis forgets them when their window ends."""

    def __init__(self, redis: Redis, prefix: str) -> None:
        self.prefix = prefix
        self._redis = redis
        self._take = redis.register_script(_TAKE)
        self._give_back = redis.register_script(_GIVE_BACK)

    async def take(self, key: str, window_s: int) -> int:
        return int(await self._take(keys=[self.prefix + key], args=[window_s]))

    async def give_back(self, key: str) -> None:
        await self._give_back(keys=[self.prefix + key])

    async def clear(self, key: str) -> None:
        await self._redis.delete(self.prefix + key)

    async def sweep(self) -> int:
        return 0  # every count was written with its expiry


@dataclass(frozen=True)
class LoginThrottle:
    counts: Counts
    per_account: int
    per_ip: int
    lockout_minutes: int

    async def admit(self, username: str, ip: str) -> str:
        """Take this sign-in's place among the failures counted for its address and its
        account; '' when it may go on, else why not (and no place is kept). Settle it afterwards
        with `succeeded`, or `withdraw` when it was not tried after all; a failure keeps its
        places until the window ends."""
        window = self.lockout_minutes * 60
        minutes = self.lockout_minutes
        address, account = _address(ip), _account(username)
        if await self.counts.take(address, window) > self.per_ip:
            await self.counts.give_back(address)
            return ngettext(
                "Too many failed logins from this address. Try again in %(num)d minute.",
                "Too many failed logins from this address. Try again in %(num)d minutes.",
                minutes,
            )
        if await self.counts.take(account, window) > self.per_account:
            await self.counts.give_back(account)
            await self.counts.give_back(address)
            return ngettext(
                "Too many failed logins for this account. Try again in %(num)d minute.",
                "Too many failed logins for this account. Try again in %(num)d minutes.",
                minutes,
            )
        return ""

    async def succeeded(self, username: str, ip: str) -> None:
        """An admitted sign-in succeeded: its address gives its place back and the account's
        failures are forgotten."""
        await self.counts.give_back(_address(ip))
        await self.counts.clear(_account(username))

    async def withdraw(self, username: str, ip: str) -> None:
        """An admitted sign-in was not tried after all (the server was busy): no failure."""
        await self.counts.give_back(_account(username))
        await self.counts.give_back(_address(ip))


def _account(username: str) -> str:
    return "account-" + hashlib.sha256(username.strip().lower().encode()).hexdigest()[:32]


def _address(ip: str) -> str:
    return "address-" + hashlib.sha256(ip.encode()).hexdigest()[:32]
