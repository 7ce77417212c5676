"""Each HTTP request's id: on every line logged while it is handled, and in its `X-Request-ID`."""

from __future__ import annotations

import re
import secrets

import structlog
from litestar.datastructures import Headers
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from purchasing.logs import REQUEST_ID

HEADER = "x-request-id"
# An id a proxy or client sends is kept only when it cannot smuggle anything into a log line.
ACCEPTED = re.compile(r"[A-Za-z0-9._-]{8,64}")
SCOPE_KEY = "purchasing.request_id"


def request_id_of(scope: Scope) -> str:
    """The request's id, chosen once and kept in its scope: the one a proxy or client sent when
    it is well-formed, else a new one."""
    known = scope.get(SCOPE_KEY)
    if known:
        return str(known)
    offered = Headers.from_scope(scope).get(HEADER, "")
    request_id = offered if ACCEPTED.fullmatch(offered) else secrets.token_hex(8)
    scope[SCOPE_KEY] = request_id  # type: ignore[literal-required]
    return request_id


def with_request_id(send: Send, request_id: str) -> Send:
    """`send`, adding the `X-Request-ID` header to the response."""

    async def send_with_id(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = [*message.get("headers", ()), (HEADER.encode(), request_id.encode())]
            message = {**message, "headers": headers}
        await send(message)

    return send_with_id


class RequestId:
    """Pure ASGI middleware for the Litestar app, for when nothing in front of it (the served
    app's `serving/front.py`, which binds every request itself) has bound the request's id."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP or SCOPE_KEY in scope:
            await self.app(scope, receive, send)
            return
        request_id = request_id_of(scope)
        with structlog.contextvars.bound_contextvars(**{REQUEST_ID: request_id}):
            await self.app(scope, receive, with_request_id(send, request_id))
