"""Failed logins counted per account and per client address, in a shared store."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from litestar.stores.base import Store

STORE = "login_attempts"


@dataclass(frozen=True)
class LoginThrottle:
    store: Store
    per_account: int
    per_ip: int
    lockout_minutes: int

    async def refusal(self, username: str, ip: str) -> str:
        """Why a login must not even be tried now, or ''."""
        wait = f"Try again in {self.lockout_minutes} minutes."
        if await self._count(_account(username)) >= self.per_account:
            return f"Too many failed logins for this account. {wait}"
        if await self._count(_address(ip)) >= self.per_ip:
            return f"Too many failed logins from this address. {wait}"
        return ""

    async def failed(self, username: str, ip: str) -> None:
        for key in (_account(username), _address(ip)):
            count = await self._count(key)
            # The window starts at the first failure; later ones do not extend it.
            remaining = await self.store.expires_in(key) if count else None
            await self.store.set(
                key, str(count + 1), expires_in=remaining or self.lockout_minutes * 60
            )

    async def succeeded(self, username: str) -> None:
        await self.store.delete(_account(username))

    async def _count(self, key: str) -> int:
        raw = await self.store.get(key)
        return int(raw) if raw else 0


def _account(username: str) -> str:
    return "account-" + hashlib.sha256(username.strip().lower().encode()).hexdigest()[:32]


def _address(ip: str) -> str:
    return "address-" + hashlib.sha256(ip.encode()).hexdigest()[:32]
