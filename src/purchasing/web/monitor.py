"""GET /admin/monitor: the live tables at a glance, for SuperAdmins (everything) and
Administrators (their company's share).

The page holds a panel that re-fetches itself on every event its stream brings (the same stream
and events as the index pages), and every 15 s while nothing happens, so the minute charts move
on and stream counts stay current. Everything shown is this process's own view: with several
workers, `/metrics` (Prometheus, multiprocess) is the place for totals.
"""

from __future__ import annotations

import itertools
import os
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from litestar import Controller, Request, get
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.response import Template

from purchasing.domain.actor import Actor
from purchasing.domain.money import WIB
from purchasing.domain.permissions import require_monitor
from purchasing.domain.statuses import Kind, Status
from purchasing.live.events import Event
from purchasing.live.hub import Hub
from purchasing.live.recent import MinuteSummary
from purchasing.live.stream import readable_kinds, visible_to
from purchasing.web.responses import live_page

LAST_EVENTS = 20
# Chart geometry, in SVG user units: one slot per minute, bars and points centred in it.
SLOT, HEIGHT, TOP, BOTTOM = 20, 80, 8, 72


async def monitors_only(
    connection: ASGIConnection[Actor, Any, Any, Any], _: BaseRouteHandler
) -> None:
    require_monitor(connection.user.role)


@dataclass(frozen=True)
class Bar:
    x: int
    y: float
    height: float
    title: str


@dataclass(frozen=True)
class Line:
    name: str
    points: str  # "x,y x,y ..." of one unbroken run of minutes with deliveries
    dots: list[tuple[int, float, str]]  # each point, with its title


def _y(value: float, top: float) -> float:
    return round(BOTTOM - (BOTTOM - TOP) * value / top, 1) if top else BOTTOM


def _clock(start: int) -> str:
    return datetime.fromtimestamp(start, WIB).strftime("%H:%M")


def events_chart(minutes: list[MinuteSummary]) -> dict[str, Any]:
    top = max((m.events for m in minutes), default=0)
    bars = [
        Bar(
            x=i * SLOT + 3,
            y=_y(m.events, top),
            height=round(BOTTOM - _y(m.events, top), 1),
            title=f"{_clock(m.start)} WIB: {m.events} events",
        )
        for i, m in enumerate(minutes)
    ]
    return {"bars": bars, "top": top, "width": SLOT * len(minutes)}


def delay_chart(minutes: list[MinuteSummary]) -> dict[str, Any]:
    """p50 and p99 per minute in milliseconds; a minute with no delivery breaks the lines."""
    top = max((m.p99 * 1000 for m in minutes if m.p99 is not None), default=0.0)
    lines = []
    for name in ("p50", "p99"):
        values = [(i, getattr(m, name), m.start) for i, m in enumerate(minutes)]
        for present, run in itertools.groupby(values, key=lambda v: v[1] is not None):
            if not present:
                continue
            dots = [
                (
                    i * SLOT + SLOT // 2,
                    _y(v * 1000, top),
                    f"{_clock(start)} WIB: {name} {v * 1000:.1f} ms",
                )
                for i, v, start in run
            ]
            lines.append(Line(name, " ".join(f"{x},{y}" for x, y, _ in dots), dots))
    return {"lines": lines, "top": round(top, 1), "width": SLOT * len(minutes)}


def event_row(event: Event) -> dict[str, Any]:
    data = event.data
    old = data.get("old_status")
    return {
        "id": event.id,
        "kind": Kind(event.kind),
        "invoice": data.get("invoice_number", ""),
        "action": data.get("action", ""),  # see live/events.py ChangeAction
        "from": Status(old).label if old else "",
        "to": Status(data["new_status"]).label if data.get("new_status") else "",
        "who": data.get("changed_by", {}).get("name", ""),
        "when": datetime.fromisoformat(data["changed_at"]) if data.get("changed_at") else None,
    }


def snapshot(hub: Hub, actor: Actor, now: float, suppressed: int = 0) -> dict[str, Any]:
    """What the panel shows `actor`: streams, the last minutes and the last events. A SuperAdmin
    sees everything this process handles, and its counters; an Administrator only what concerns
    their company (its users' streams, its events), and no process-wide counter."""
    company = None if actor.sees_everything else actor.company_id
    streams = [
        s
        for s in hub.subscribers
        if company is None or (s.owner is not None and s.owner.company_id == company)
    ]
    minutes = hub.recent.series(now, company)
    per_kind = Counter(kind for subscriber in streams for kind in subscriber.kinds)
    visible = visible_to(actor)
    delivered = [m for m in minutes if m.p50 is not None]
    stats = hub.stats
    counters = {
        "delivered": stats.delivered,
        "replayed": stats.replayed,
        "resyncs": stats.resyncs,
        "slow_drops": stats.slow_drops,
        "slow_writes": stats.slow_writes,
        "suppressed": suppressed,
    }
    return {
        "scope": "everything" if company is None else "company",
        "streams": len(streams),
        "streams_per_kind": [(kind, per_kind[kind.value]) for kind in Kind],
        "events_this_minute": minutes[-1].events,
        "events_in_window": sum(m.events for m in minutes),
        "window_minutes": len(minutes),
        "latest_p50_ms": delivered[-1].p50 * 1000 if delivered and delivered[-1].p50 else None,
        "latest_p99_ms": delivered[-1].p99 * 1000 if delivered and delivered[-1].p99 else None,
        "events_chart": events_chart(minutes),
        "delay_chart": delay_chart(minutes),
        "counters": counters if company is None else None,
        "last_events": [
            event_row(e)
            for e in itertools.islice((e for e in reversed(hub.ring) if visible(e)), LAST_EVENTS)
        ],
        "last_event_id": hub.last_id,
        "pid": os.getpid(),
    }


class MonitorController(Controller):
    path = "/admin/monitor"
    guards = [monitors_only]

    @get("/", name="monitor")
    async def page(self, request: Request[Actor, Any, Any]) -> Template:
        response = await live_page(request, "admin/monitor.html.j2")
        response.context.update(self._context(request))
        return response

    @get("/panel", name="monitor_panel")
    async def panel(self, request: Request[Actor, Any, Any]) -> Template:
        return Template("admin/_monitor_panel.html.j2", context=self._context(request))

    @staticmethod
    def _context(request: Request[Actor, Any, Any]) -> dict[str, Any]:
        hub: Hub = request.app.state.hub
        return {
            "monitor": snapshot(
                hub, request.user, time.time(), request.app.state.changes.suppressed
            ),
            "live_events": [Kind(k).event_type for k in sorted(readable_kinds(request.user))],
            "workers": request.app.state.settings.workers,
        }
