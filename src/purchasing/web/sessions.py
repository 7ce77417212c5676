"""Server-side sessions that get a new id at login, and the store behind them."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.middleware.session.server_side import (
    ServerSideSessionBackend,
    ServerSideSessionConfig,
)
from litestar.stores.base import Store

COOKIE = "session"
STORE = "sessions"
FRESH_ID = "purchasing.fresh_session_id"


class RotatingSessionBackend(ServerSideSessionBackend):
    """Saves the session under a new id when the request asked for one, so an id planted in a
    browser before login is worthless after it."""

    def get_session_id(self, connection: ASGIConnection[Any, Any, Any, Any]) -> str:
        fresh = connection.scope.get("state", {}).get(FRESH_ID)
        return str(fresh) if fresh else super().get_session_id(connection)


@dataclass
class SessionConfig(ServerSideSessionConfig):
    _backend_class = RotatingSessionBackend


def session_config(idle_minutes: int) -> SessionConfig:
    """HttpOnly, SameSite=Lax; expires after `idle_minutes` without a request (renewed on each)."""
    return SessionConfig(
        key=COOKIE,
        store=STORE,
        max_age=idle_minutes * 60,
        renew_on_access=True,
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
