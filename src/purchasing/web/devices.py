"""Device cookies: how a browser that has signed in to an account before is known again, so that
failed logins elsewhere never lock its owner out (OWASP's "device cookies").

A successful sign-in leaves a long-lived cookie holding the browser's random id, when it was
issued, and the accounts signed in to from it (most recent first), signed with the server's
secret. Only the login form receives it. A cookie made up, altered, signed with another secret or
older than a year names no device.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass

from litestar.datastructures import Cookie

COOKIE = "device"
PATH = "/login"
MAX_AGE_S = 365 * 24 * 3600
MAX_ACCOUNTS = 5  # remembered per browser: people sharing one at a desk
MAX_COOKIE = 512  # characters read; a longer cookie names no device
HEX = re.compile(r"[0-9a-f]{32}")
SECONDS = re.compile(r"[0-9]{1,12}")


def account_key(username: str, secret: str) -> str:
    """The account a username names, whatever its case and surrounding spaces. Keyed with the
    server's secret: people type their password into the username box too, and this key is
    kept in counts, cookies and logs."""
    message = b"account:" + username.strip().lower().encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()[:32]


@dataclass(frozen=True)
class Device:
    """A browser that has signed in before: its own id and the accounts it signed in to."""

    id: str
    accounts: tuple[str, ...] = ()

    def knows(self, account: str) -> bool:
        return account in self.accounts


@dataclass(frozen=True)
class DeviceCookies:
    secret: str

    def read(self, value: str, now: float | None = None) -> Device | None:
        """The device a cookie names, or None when it is not one this server signed lately."""
        parts = value.split(".") if len(value) <= MAX_COOKIE else []
        if not (4 <= len(parts) <= 3 + MAX_ACCOUNTS and _well_formed(parts)):
            return None
        device_id, issued, *accounts, signature = parts
        if not hmac.compare_digest(signature, self._sign(device_id, issued, accounts)):
            return None
        age = (time.time() if now is None else now) - int(issued)
        return Device(device_id, tuple(accounts)) if 0 <= age < MAX_AGE_S else None

    def issue(self, device: Device | None, username: str, secure: bool) -> Cookie:
        """The cookie for a browser that has just signed in as `username`: the same device (a new
        one the first time), that account first, valid for a year from now."""
        account = account_key(username, self.secret)
        device_id = device.id if device else secrets.token_hex(16)
        kept = [known for known in (device.accounts if device else ()) if known != account]
        accounts = [account, *kept][:MAX_ACCOUNTS]
        issued = str(int(time.time()))
        signature = self._sign(device_id, issued, accounts)
        return Cookie(
            key=COOKIE,
            value=".".join([device_id, issued, *accounts, signature]),
            max_age=MAX_AGE_S,
            path=PATH,
            httponly=True,
            samesite="lax",
            secure=secure,
        )

    def _sign(self, device_id: str, issued: str, accounts: list[str]) -> str:
        message = ":".join(["device", device_id, issued, *accounts]).encode()
        return hmac.new(self.secret.encode(), message, hashlib.sha256).hexdigest()[:32]


def _well_formed(parts: list[str]) -> bool:
    """Hex ids and signature around a time in seconds: nothing else is worth checking."""
    device_id, issued, *accounts, signature = parts
    return bool(SECONDS.fullmatch(issued)) and all(
        HEX.fullmatch(part) for part in (device_id, *accounts, signature)
    )
