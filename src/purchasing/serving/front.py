"""The ASGI app `purchasing serve` runs: the event streams of signed-in users answered in front of
Litestar, everything else by it.

An open stream lives for hours. Served through Litestar, each one would keep the whole request
stack alive while it waits (every middleware's frame, the request objects, the send wrappers),
about two thirds of its memory, and pay for that stack again at every reconnect. Here a stream
costs its connection, one coroutine and its subscriber. It is the same `EventStream` the
`GET /events` route returns, opened under the same rules: the session cookie names a session in
the app's store, whose user the app's `ActorCache` finds active. Anything else (no cookie, an
ended session, an inactive user, another method) goes on to Litestar, which answers as for any
other request. The responses carry the same security headers, and every request (a stream
too) gets its id for the log lines and `X-Request-ID` (`web/request_id.py`).
"""

from __future__ import annotations

from typing import Any

import msgspec
import structlog
from litestar import Litestar
from litestar.connection import ASGIConnection
from litestar.enums import HttpMethod, ScopeType
from litestar.types import Message, Receive, Scope, Send

from purchasing.live.stream import EventStream
from purchasing.logs import REQUEST_ID
from purchasing.services.users import actor_of_session
from purchasing.serving.chunks import SERVER_SEND
from purchasing.web import sessions
from purchasing.web.request_id import request_id_of, with_request_id
from purchasing.web.security import add_security_headers

EVENTS_PATH = "/events"


class Front:
    """Wraps the Litestar app; keeps the server's own `send` in every HTTP scope, so streams
    can write to their connection (`serving/chunks.py`)."""

    def __init__(self, app: Litestar) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        scope[SERVER_SEND] = send  # type: ignore[literal-required]
        request_id = request_id_of(scope)
        send = with_request_id(send, request_id)
        # Bound here, not by a wrapping middleware: an open stream keeps no extra frame alive.
        tokens = structlog.contextvars.bind_contextvars(**{REQUEST_ID: request_id})
        try:
            if scope["path"] == EVENTS_PATH and scope["method"] == HttpMethod.GET:
                stream = await self._signed_in_stream(scope)
                if stream is not None:
                    await stream(scope, receive, _secured(send, scope))
                    return
            await self.app(scope, receive, send)
        finally:
            structlog.contextvars.reset_contextvars(**tokens)

    async def _signed_in_stream(self, scope: Scope) -> EventStream | None:
        connection: ASGIConnection[Any, Any, Any, Any] = ASGIConnection(scope)
        session_id = connection.cookies.get(sessions.COOKIE, "")
        if not session_id:
            return None
        data = await self.app.stores.get(sessions.STORE).get(session_id)
        try:
            session = msgspec.json.decode(data) if data else None
        except msgspec.DecodeError:
            return None
        if not isinstance(session, dict):
            return None
        state = self.app.state
        actor = await actor_of_session(session, state.actors)
        if actor is None:
            return None
        cursor = connection.headers.get("last-event-id") or connection.query_params.get("after")
        return EventStream(state.hub, actor, cursor, state.settings.retry_ms, session_id)


def _secured(send: Send, scope: Scope) -> Send:
    async def secured(message: Message) -> None:
        await add_security_headers(message, scope)
        await send(message)

    return secured
