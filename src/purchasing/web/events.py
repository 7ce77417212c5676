"""GET /events: one SSE stream per browser (or tab), resuming after `Last-Event-ID` or `?after=`,
saying with `?here=` which purchases the browser's tabs have open (live/presence.py).

`open_stream` is the one way a stream opens: the served app's front (`serving/front.py`) uses it
to answer a stream ahead of Litestar, and this route when the front lets Litestar answer. Both
read the session with the app's own session backend, find its user the same way, and so cannot
drift apart."""

from __future__ import annotations

from typing import Any

from litestar import Litestar, Request, get
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException
from litestar.types import ASGIApp, Scope

from purchasing.domain.actor import Actor
from purchasing.live.presence import parse_here
from purchasing.live.stream import EventStream
from purchasing.services.presence import visible_heres
from purchasing.services.users import actor_of_session
from purchasing.web.language import language_of
from purchasing.web.sessions import COOKIE, SessionConfig


async def open_stream(app: Litestar, scope: Scope) -> EventStream | None:
    """The stream of the active user whose session the request's cookie names, or None. The
    browser's own reconnects send `Last-Event-ID`, which wins over the page's `?after=`."""
    connection: ASGIConnection[Any, Any, Any, Any] = ASGIConnection(scope)
    session_id = connection.cookies.get(COOKIE, "")
    if not session_id:
        return None
    session = scope.get("session")  # read already when Litestar's session middleware ran
    if not isinstance(session, dict):
        config: SessionConfig = app.state.session_config
        data = await config.backend.get(session_id, config.get_store_from_app(app))
        try:
            session = config.backend.deserialize_data(data) if data is not None else {}
        except ValueError:  # a stored session that does not decode: none
            return None
    actor = await actor_of_session(session, app.state.actors)
    if actor is None:
        return None
    state = app.state
    cursor = connection.headers.get("last-event-id") or connection.query_params.get("after")
    wanted = parse_here(connection.query_params.get("here", ""))
    heres = await visible_heres(actor, wanted) if wanted else ()
    return EventStream(
        state.hub,
        actor,
        cursor,
        state.settings.retry_ms,
        session_id,
        state.direct_writers,
        heres,
        language_of(connection, state.settings.default_language, actor),
    )


@get("/events", name="events")
async def events(request: Request[Actor, Any, Any]) -> ASGIApp:
    stream = await open_stream(request.app, request.scope)
    if stream is None:
        raise NotAuthorizedException()
    return stream
