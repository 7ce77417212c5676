"""GET /events: one SSE stream per tab, resuming after `Last-Event-ID` or `?after=`."""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.params import FromQuery
from litestar.types import ASGIApp

from purchasing.domain.actor import Actor
from purchasing.live.hub import Hub
from purchasing.live.stream import EventStream
from purchasing.settings import Settings
from purchasing.web.sessions import session_id


@get("/events", name="events")
async def events(request: Request[Actor, Any, Any], after: FromQuery[str | None] = None) -> ASGIApp:
    """The browser's own reconnects send `Last-Event-ID`, which wins over the page's `?after=`."""
    hub: Hub = request.app.state.hub
    settings: Settings = request.app.state.settings
    cursor = request.headers.get("last-event-id") or after
    return EventStream(hub, request.user, cursor, settings.retry_ms, session_id(request))
