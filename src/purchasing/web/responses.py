"""Small helpers shared by controllers."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from litestar import Request
from litestar.response import Template

from purchasing.domain.statuses import Kind
from purchasing.services.changes import Changes

# On every response that differs with htmx asking or not: a cache must not hand one for the other.
VARY_HTMX = {"Vary": "HX-Request"}


def safe_next(target: str, request: Request[Any, Any, Any]) -> str:
    """`target` when it is a path on this site, else the first index page (no open redirects)."""
    parts = urlsplit(target)
    if (
        target.startswith("/")
        and not target.startswith("//")
        and not parts.scheme
        and not parts.netloc
    ):
        return target
    return request.app.route_reverse("purchase_index", kind=Kind.SUPPLY.value)


async def live_page(
    request: Request[Any, Any, Any], template: str, *, read_first: bool = True
) -> Template:
    """A page with an event stream, carrying the newest event id when it was built so the stream
    misses nothing that happened after; call it before reading what the page shows.

    Without `read_first` the cursor is what this process has read so far, with no read of its
    own: the stream may then bring an event the page already reflects, which is harmless where
    events are compared by version (the forms' stale banner) and saves a query per render."""
    hub = request.app.state.hub
    cursor = await hub.cursor() if read_first else hub.last_id
    return Template(template, context={"live_cursor": cursor})


def changes(request: Request[Any, Any, Any]) -> Changes:
    """The app's way in for changes, which the verbs take (`services/changes.py`)."""
    found: Changes = request.app.state.changes
    return found


def echo_mark(request: Request[Any, Any, Any]) -> str:
    """The mark by which the tab that sent `request` recognises its change's event
    (`web/echo.py`)."""
    return str(request.app.state.echo.of(request))


def client_details(request: Request[Any, Any, Any]) -> tuple[str, str]:
    """The client's IP and user agent, as recorded in status history."""
    host = request.client.host if request.client else ""
    return host, request.headers.get("user-agent", "")
