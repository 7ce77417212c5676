"""Server-side sessions that get a new id at login, and the store behind them."""

from __future__ import annotations

import asyncio
import secrets
import time
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.middleware.session.server_side import (
    ServerSideSessionBackend,
    ServerSideSessionConfig,
)
from litestar.stores.base import StorageObject, Store
from litestar.stores.file import FileStore
from litestar.types import Empty, Message, ScopeSession

from purchasing.web.throttle import Counts

COOKIE = "session"
STORE = "sessions"
FRESH_ID = "purchasing.fresh_session_id"
KNOWN = "purchasing.known_session"  # the request's cookie named a session the store holds
# A session left as it was found is written (its idle expiry pushed back) at most this often.
RENEW_AFTER_S = 60.0
NEVER = float("-inf")
SEEN_LIMIT = 10_000  # sessions remembered before the stale entries are forgotten


class RotatingSessionBackend(ServerSideSessionBackend):
    """Saves the session under a new id when the request asked for one, so an id planted in a
    browser before login is worthless after it.

    Writes only sessions it issued: one started by `start_new_session` (a login), or one the
    request's cookie named and the store still held. Any other cookie, made up or expired, is
    ignored: nothing is written and no cookie is set, so a flood of invented ids costs no disk
    (Litestar's backend would keep whatever the request left under the id it was sent). It
    also writes only what a request changed: Litestar's backend would write every session on
    every request (twice, with `renew_on_access`) and set its cookie again, a file write and a
    header per page view or table re-fetch. A session this process last wrote less than
    `RENEW_AFTER_S` ago and that the request left as it read it is neither written nor sent
    again; its idle expiry (in the store and in the cookie's Max-Age) then moves at most that
    much late. Reads are never cached, so another process's change or logout counts at once."""

    def __init__(self, config: ServerSideSessionConfig) -> None:
        super().__init__(config)
        # session id -> (its data as last read or written here, when this process last wrote it)
        self._seen: dict[str, tuple[bytes, float]] = {}

    def get_session_id(self, connection: ASGIConnection[Any, Any, Any, Any]) -> str:
        return _fresh_id(connection) or super().get_session_id(connection)

    async def get(self, session_id: str, store: Store) -> bytes | None:
        data = await store.get(session_id)
        if data is None:
            self._seen.pop(session_id, None)
        else:
            self._remember(session_id, data, self._seen.get(session_id, (b"", NEVER))[1])
        return data

    async def load_from_connection(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> dict[str, Any]:
        session_id = connection.cookies.get(self.config.key)
        if session_id:
            data = await self.get(session_id, self.config.get_store_from_app(connection.app))
            if data is not None:
                connection.scope.setdefault("state", {})[KNOWN] = True
                return self.deserialize_data(data)
        return {}

    async def store_in_message(
        self,
        scope_session: ScopeSession,
        message: Message,
        connection: ASGIConnection[Any, Any, Any, Any],
    ) -> None:
        state = connection.scope.get("state", {})
        if not state.get(KNOWN) and not state.get(FRESH_ID):
            return  # not a session this app issued: none is made, and no cookie is set
        if scope_session is not Empty:
            session_id = self.get_session_id(connection)
            seen = self._seen.get(session_id)
            if (
                seen is not None
                and time.monotonic() - seen[1] < RENEW_AFTER_S
                and seen[0] == self.serialize_data(scope_session, connection.scope)
            ):
                return  # no write, and the cookie the browser holds stands
        await super().store_in_message(scope_session, message, connection)

    async def set(self, session_id: str, data: bytes, store: Store) -> None:
        await super().set(session_id, data, store)
        self._remember(session_id, data, time.monotonic())

    def _remember(self, session_id: str, data: bytes, written_at: float) -> None:
        self._seen[session_id] = (data, written_at)
        if len(self._seen) > SEEN_LIMIT:
            now = time.monotonic()
            self._seen = {k: v for k, v in self._seen.items() if now - v[1] < RENEW_AFTER_S}


def _fresh_id(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    """The new id `start_new_session` chose for this request's session, or ''."""
    return str(connection.scope.get("state", {}).get(FRESH_ID) or "")


@dataclass
class SessionConfig(ServerSideSessionConfig):
    """Litestar's config, with a backend of the same kind the session middleware builds, for
    event streams answered in front of Litestar (`web/events.py`): a stream reads its session
    exactly as any request does."""

    _backend_class = RotatingSessionBackend

    @cached_property
    def backend(self) -> RotatingSessionBackend:
        return RotatingSessionBackend(config=self)


def session_config(idle_minutes: int) -> SessionConfig:
    """HttpOnly, SameSite=Lax; expires after `idle_minutes` without a request (renewed by the
    backend's writes, at least every `RENEW_AFTER_S` of activity)."""
    return SessionConfig(
        key=COOKIE,
        store=STORE,
        max_age=idle_minutes * 60,
        httponly=True,
        samesite="lax",
    )


async def start_new_session(request: Request[Any, Any, Any], data: dict[str, Any]) -> None:
    """Forget the visitor's old session and keep `data` under an id nobody has seen yet."""
    old = request.cookies.get(COOKIE)
    if old:
        await session_store(request).delete(old)
    request.scope.setdefault("state", {})[FRESH_ID] = secrets.token_hex(32)
    request.set_session(data)


def session_id(request: Request[Any, Any, Any]) -> str:
    return request.cookies.get(COOKIE, "")


def session_store(request: Request[Any, Any, Any]) -> Store:
    return request.app.stores.get(STORE)


async def sweep_expired(store: Store, login_counts: Counts) -> int:
    """Delete the sessions and counts of failed logins whose time is up; returns how many
    session files went. Session files stay on disk until read, so they are swept here (in a
    worker thread: it reads every file); Redis forgets its keys by itself, as each was written
    with its expiry."""
    deleted = 0
    if isinstance(store, FileStore):
        deleted = await asyncio.to_thread(_delete_expired_files, Path(store.path))
    await login_counts.sweep()
    return deleted


def _delete_expired_files(folder: Path) -> int:
    """Litestar's `FileStore.delete_expired`, but a file being written (`<name>.tmp...`), gone
    meanwhile or unreadable is passed over instead of ending the sweep."""
    deleted = 0
    for path in folder.iterdir() if folder.is_dir() else ():
        if ".tmp" in path.name:
            continue
        try:
            if StorageObject.from_bytes(path.read_bytes()).expired:
                path.unlink(missing_ok=True)
                deleted += 1
        except (OSError, ValueError):
            continue
    return deleted
