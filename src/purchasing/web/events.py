"""GET /events: one SSE stream per tab, resuming after `Last-Event-ID` or `?after=`."""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.params import FromQuery
from litestar.response import Stream

from purchasing.domain.actor import Actor
from purchasing.live.hub import Hub
from purchasing.live.stream import sse_stream
from purchasing.settings import Settings
from purchasing.web.sessions import session_id

SSE_HEADERS = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}


@get("/events", name="events")
async def events(request: Request[Actor, Any, Any], after: FromQuery[str | None] = None) -> Stream:
    """The browser's own reconnects send `Last-Event-ID`, which wins over the page's `?after=`."""
    hub: Hub = request.app.state.hub
    settings: Settings = request.app.state.settings
    cursor = request.headers.get("last-event-id") or after
    stream = sse_stream(
        hub, request.user, cursor, settings.retry_ms, settings.heartbeat_s, session_id(request)
    )
    return Stream(stream, media_type="text/event-stream", headers=SSE_HEADERS)
