"""Failed logins, counted so that the limits hold under concurrency and lock out the sources
that fail rather than the people they try to be: a sign-in first takes its place in each of its
counts, atomically, and is refused at once when a place is past its limit, before any password
is hashed.

A sign-in is counted against its source: its browser when that holds a valid device cookie (for
any account), else its address, so that the people behind one address are told apart where they
can be. It is counted against its account from that source too. A source the account has not
signed in from before also counts against the account everywhere, a ceiling past which only
browsers it has signed in from may try: failures elsewhere never lock an owner out of their own
browser.

The counts live in Redis (`INCR`, and an expiry set with the first failure) when sessions do
(`STORE_URL`), so every process and machine shares them; otherwise in this process.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from redis.asyncio import Redis

from purchasing.i18n import ngettext
from purchasing.metrics import LOGIN_LOCKOUTS
from purchasing.web.devices import Device, account_key

log = logging.getLogger("purchasing.auth")

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


class Scope(StrEnum):
    """What a full count locks, for the refusal, the log and the metrics."""

    ADDRESS = "address"  # an address without a device cookie, for every account
    DEVICE = "device"  # a browser with a device cookie, for every account
    ACCOUNT = "account"  # an account, from one address or device
    ACCOUNT_GLOBAL = "account_global"  # an account, from every source it does not know


@dataclass(frozen=True)
class Count:
    """One count a sign-in is limited by; a success clears it, or only gives its place back."""

    key: str
    limit: int
    scope: Scope
    cleared_by_success: bool = False


@dataclass(frozen=True)
class Place:
    """The place a sign-in took in a count."""

    count: Count
    number: int  # the place taken: the count with this sign-in in it


@dataclass(frozen=True)
class Attempt:
    """A sign-in's places in its counts, or why it was refused (and then it holds none)."""

    account: str
    client: str
    places: tuple[Place, ...] = ()
    refusal: str = ""
    refused_by: Scope | None = None


@dataclass(frozen=True)
class LoginThrottle:
    counts: Counts
    secret: str  # keys the accounts' names (`account_key`)
    per_account: int
    per_ip: int
    per_account_global: int
    lockout_minutes: int

    async def admit(self, username: str, ip: str, device: Device | None = None) -> Attempt:
        """Take this sign-in's place in each of its counts; refused (keeping no place) at the
        first that is past its limit. Settle an admitted one afterwards with `failed`,
        `succeeded`, or `withdraw` when it was not tried after all."""
        window = self.lockout_minutes * 60
        account = account_key(username, self.secret)
        taken: list[Place] = []
        for count in self._counts(account, ip, device):
            taken.append(Place(count, await self.counts.take(count.key, window)))
            if taken[-1].number > count.limit:
                await self._give_back(taken)
                refusal = _refusal(count.scope, self.lockout_minutes)
                return Attempt(account, ip, refusal=refusal, refused_by=count.scope)
        return Attempt(account, ip, tuple(taken))

    def failed(self, attempt: Attempt) -> None:
        """A failure keeps its places until the window ends. One that fills a count locks what
        the count stands for: logged, and counted in metrics."""
        for place in attempt.places:
            if place.number == place.count.limit:
                LOGIN_LOCKOUTS.labels(scope=place.count.scope.value).inc()
                log.warning(
                    "login lockout",
                    extra={
                        "scope": place.count.scope.value,
                        "account": attempt.account,
                        "client": attempt.client,
                        "minutes": self.lockout_minutes,
                    },
                )

    async def succeeded(self, attempt: Attempt) -> None:
        """A success is no failure: it gives its places back, and forgets the account's failures
        from its source (not those from elsewhere)."""
        for place in attempt.places:
            if place.count.cleared_by_success:
                await self.counts.clear(place.count.key)
            else:
                await self.counts.give_back(place.count.key)

    async def withdraw(self, attempt: Attempt) -> None:
        """An admitted sign-in was not tried after all (the server was busy): no failure."""
        await self._give_back(attempt.places)

    def _counts(self, account: str, ip: str, device: Device | None) -> list[Count]:
        """What this sign-in is counted against, its source first."""
        source = (
            Count("address-" + _digest(ip), self.per_ip, Scope.ADDRESS)
            if device is None
            else Count("device-" + _digest(device.id), self.per_ip, Scope.DEVICE)
        )
        from_source = Count(
            f"account-{account}-from-{source.key}",
            self.per_account,
            Scope.ACCOUNT,
            cleared_by_success=True,
        )
        if device is not None and device.knows(account):
            return [source, from_source]
        everywhere = Count(f"account-{account}", self.per_account_global, Scope.ACCOUNT_GLOBAL)
        return [source, from_source, everywhere]

    async def _give_back(self, places: Sequence[Place]) -> None:
        for place in places:
            await self.counts.give_back(place.count.key)


def _refusal(scope: Scope, minutes: int) -> str:
    """Why a sign-in is refused, in the reader's language."""
    if scope is Scope.ADDRESS:
        return ngettext(
            "Too many failed logins from this address. Try again in %(num)d minute.",
            "Too many failed logins from this address. Try again in %(num)d minutes.",
            minutes,
        )
    if scope is Scope.DEVICE:
        return ngettext(
            "Too many failed logins from this browser. Try again in %(num)d minute.",
            "Too many failed logins from this browser. Try again in %(num)d minutes.",
            minutes,
        )
    if scope is Scope.ACCOUNT_GLOBAL:
        return ngettext(
            "Too many failed logins for this account. Log in from a browser you have logged in "
            "with before, or try again in %(num)d minute.",
            "Too many failed logins for this account. Log in from a browser you have logged in "
            "with before, or try again in %(num)d minutes.",
            minutes,
        )
    return ngettext(
        "Too many failed logins for this account. Try again in %(num)d minute.",
        "Too many failed logins for this account. Try again in %(num)d minutes.",
        minutes,
    )


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:32]
