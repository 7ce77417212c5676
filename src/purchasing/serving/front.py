"""The ASGI app `purchasing serve` runs: the event streams of signed-in users answered in front of
Litestar, everything else by it.

An open stream lives for hours. Served through Litestar, each one would keep the whole request
stack alive while it waits (every middleware's frame, the request objects, the send wrappers),
about two thirds of its memory, and pay for that stack again at every reconnect. Here a stream
costs its connection, one coroutine and its subscriber, and its frames are written straight to
the connection (`chunks.py`). It is opened by the very function the `GET /events` route uses
(`web/events.py`), at the route's own path: a request it does not open (no session, an ended one,
an inactive user, another method) goes on to Litestar, which answers as for any other request.
The responses carry the same security headers, and every request (a stream too) gets its id for
the log lines and `X-Request-ID` (`web/request_id.py`). With `DIRECT_STREAMS=0`, or when this
uvicorn lacks something `contract.py` lists, every request goes to Litestar and every frame
through the ASGI `send`.
"""

from __future__ import annotations

import logging

import structlog
from litestar import Litestar
from litestar.enums import HttpMethod, ScopeType
from litestar.types import Message, Receive, Scope, Send

from purchasing.app import create_app
from purchasing.live.stream import SERVER_SEND
from purchasing.logs import REQUEST_ID, configure_logging
from purchasing.serving import contract
from purchasing.serving.chunks import ChunkWriter
from purchasing.settings import Settings
from purchasing.web.events import open_stream
from purchasing.web.request_id import request_id_of, with_request_id
from purchasing.web.security import add_security_headers

log = logging.getLogger("purchasing.serving")


def create_served_app() -> Front:
    """What `purchasing serve` runs (in each worker): the app behind the front."""
    settings = Settings.from_env()
    configure_logging(settings.log_level, settings.log_format)
    return Front.around(settings)


class Front:
    """Wraps the Litestar app; with direct streams, keeps the server's own `send` in every HTTP
    scope, so a stream can write to its connection."""

    def __init__(self, app: Litestar, direct: bool) -> None:
        self.app = app
        self.direct = direct
        self.events_path = app.route_reverse("events")

    @classmethod
    def around(cls, settings: Settings) -> Front:
        """The app for `settings`, with direct streams when they are on and this uvicorn has
        what they need."""
        direct = settings.direct_streams
        if direct and (gone := contract.missing(fast_path_only=True)):
            log.warning(
                "direct streams off: this uvicorn lacks %s; streams go the ASGI way",
                ", ".join(map(str, gone)),
            )
            direct = False
        return cls(create_app(settings, direct_writers=ChunkWriter.of if direct else None), direct)

    def close_streams_threadsafe(self) -> None:
        """End every open stream now, from any thread (a signal handler's)."""
        self.app.state.hub.close_streams_threadsafe()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        request_id = request_id_of(scope)
        # Bound here, not by a wrapping middleware: an open stream keeps no extra frame alive.
        tokens = structlog.contextvars.bind_contextvars(**{REQUEST_ID: request_id})
        try:
            if self.direct:
                scope[SERVER_SEND] = send  # type: ignore[literal-required]
            send = with_request_id(send, request_id)
            if (
                self.direct
                and scope["path"] == self.events_path
                and scope["method"] == HttpMethod.GET
            ):
                stream = await open_stream(self.app, scope)
                if stream is not None:
                    await stream(scope, receive, _secured(send, scope))
                    return
            await self.app(scope, receive, send)
        finally:
            structlog.contextvars.reset_contextvars(**tokens)


def _secured(send: Send, scope: Scope) -> Send:
    async def secured(message: Message) -> None:
        await add_security_headers(message, scope)
        await send(message)

    return secured
