"""GET /admin/monitor: the live tables at a glance, for SuperAdmins (everything) and
Administrators (their company's share).

The page holds a panel that re-fetches itself on every event its stream brings (the same stream
and events as the index pages), and every 15 s while nothing happens, so the minute charts move
on and stream counts stay current. Everything shown is this process's own view: with several
workers, `/metrics` (Prometheus, multiprocess) is the place for totals.
"""

from __future__ import annotations

import time
from typing import Any

from litestar import Controller, Request, get
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Template

from purchasing.domain.actor import Actor
from purchasing.domain.permissions import require_monitor
from purchasing.domain.statuses import Kind
from purchasing.live.hub import Hub
from purchasing.live.stream import readable_kinds, visible_to
from purchasing.presentation import monitor as view
from purchasing.web.responses import VARY_HTMX, live_page

LAST_EVENTS = 20


async def monitors_only(
    connection: ASGIConnection[Actor, Any, Any, Any], _: BaseRouteHandler
) -> None:
    require_monitor(connection.user.role)


class MonitorController(Controller):
    path = "/admin/monitor"
    guards = [monitors_only]

    @get("/", name="monitor")
    async def page(self, request: HTMXRequest) -> Template:
        """The page, or for htmx (its refreshes) only the panel."""
        if request.htmx:
            return Template(
                "admin/_monitor_panel.html.j2", context=self._context(request), headers=VARY_HTMX
            )
        response = await live_page(request, "admin/monitor.html.j2")
        response.context.update(self._context(request))
        response.headers.update(VARY_HTMX)
        return response

    @staticmethod
    def _context(request: Request[Actor, Any, Any]) -> dict[str, Any]:
        hub: Hub = request.app.state.hub
        actor: Actor = request.user
        company = None if actor.sees_everything else actor.company_id
        figures = hub.snapshot(company, visible_to(actor), time.time(), LAST_EVENTS)
        return {
            "monitor": view.panel(figures, company is None, request.app.state.changes.suppressed),
            "live_events": [Kind(k).event_type for k in sorted(readable_kinds(request.user))],
            "workers": request.app.state.settings.workers,
        }
