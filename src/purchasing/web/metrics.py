"""GET /metrics: Prometheus metrics through Litestar's Prometheus plugin.

Open to clients on this machine that talk to the app directly (a Prometheus or an agent beside
it); through a proxy (a request carrying X-Forwarded-For or Forwarded) or from anywhere else only
with `Authorization: Bearer <METRICS_TOKEN>`, and not at all while METRICS_TOKEN is unset.
"""

from __future__ import annotations

import contextlib
import hmac
import ipaddress
from typing import Any

from litestar import MediaType, Request, Response
from litestar._asgi.utils import wrap_in_exception_handler
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.plugins.prometheus import PrometheusConfig, PrometheusController, PrometheusMiddleware
from litestar.status_codes import HTTP_401_UNAUTHORIZED, HTTP_403_FORBIDDEN
from litestar.types import ASGIApp

from purchasing import metrics
from purchasing.live.hub import Hub


class RouteMetrics(PrometheusMiddleware):
    """Litestar's Prometheus middleware, for a place outside authentication (so requests it
    refuses count too): what it wraps answers its own exceptions, as Litestar does around each
    route's middleware, so the status counted is the one sent."""

    def __init__(self, app: ASGIApp, config: PrometheusConfig) -> None:
        super().__init__(wrap_in_exception_handler(app), config)


# HTTP requests by route (its path template, not each URL) and status.
HTTP_METRICS = PrometheusConfig(
    app_name="purchasing",
    prefix=f"{metrics.PREFIX}_http",
    group_path=True,
    middleware_class=RouteMetrics,
)


class ScrapeRefused(Exception):
    def __init__(self, status_code: int, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code


def is_local(connection: ASGIConnection[Any, Any, Any, Any]) -> bool:
    """A client on this machine, talking to the app itself: a request that came through a proxy
    (it says whom for) needs the token, whatever address the proxy headers gave it."""
    if "x-forwarded-for" in connection.headers or "forwarded" in connection.headers:
        return False
    host = connection.client.host if connection.client else ""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def operator_refusal(connection: ASGIConnection[Any, Any, Any, Any]) -> ScrapeRefused | None:
    """Why `connection` may not see the process's figures (metrics, `/health`'s counters), or
    None when it may: from this machine directly, or with the metrics token."""
    if is_local(connection):
        return None
    token: str = connection.app.state.settings.metrics_token
    if not token:
        return ScrapeRefused(
            HTTP_403_FORBIDDEN, "Metrics are served to this machine only: METRICS_TOKEN is not set."
        )
    scheme, _, given = connection.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.encode(), token.encode()):
        return ScrapeRefused(HTTP_401_UNAUTHORIZED, "Metrics need Authorization: Bearer <token>.")
    return None


async def may_scrape(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> None:
    refusal = operator_refusal(connection)
    if refusal is not None:
        raise refusal


def refused(_: Request[Any, Any, Any], error: ScrapeRefused) -> Response[str]:
    headers = {"WWW-Authenticate": "Bearer"} if error.status_code == HTTP_401_UNAUTHORIZED else {}
    return Response(
        str(error), status_code=error.status_code, media_type=MediaType.TEXT, headers=headers
    )


async def measure(request: Request[Any, Any, Any]) -> None:
    """Before each scrape: this process's outbox lag, and the delivered frames not yet counted.
    A database that does not answer leaves the lag as it was (`/ready` reports it)."""
    hub: Hub = request.app.state.hub
    hub.sync_metrics()
    with contextlib.suppress(Exception):
        events, seconds = await hub.lag()
        metrics.OUTBOX_LAG_EVENTS.set(events)
        metrics.OUTBOX_LAG_SECONDS.set(seconds)


class MetricsController(PrometheusController):
    path = "/metrics"
    guards = [may_scrape]
    before_request = measure  # type: ignore[assignment]  # Litestar unbinds it
    exception_handlers = {ScrapeRefused: refused}
    opt = {"exclude_from_auth": True, "exclude_from_csrf": True}
    include_in_schema = False
