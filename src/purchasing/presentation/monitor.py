"""The monitor panel's view model: figures, charts drawn as SVG shapes, and the last events, from
what the hub tells of this process (`Hub.snapshot`)."""

from __future__ import annotations

import itertools
import os
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from purchasing.domain.money import WIB
from purchasing.domain.statuses import Kind, Status
from purchasing.i18n import _
from purchasing.live.events import Event
from purchasing.live.hub import Snapshot
from purchasing.live.recent import MinuteSummary

# Chart geometry, in SVG user units: one slot per minute, bars and points centred in it.
SLOT, HEIGHT, TOP, BOTTOM = 20, 80, 8, 72


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
            title=_("%(time)s WIB: %(count)s events", time=_clock(m.start), count=m.events),
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
                    _(
                        "%(time)s WIB: %(name)s %(ms).1f ms",
                        time=_clock(start),
                        name=name,
                        ms=v * 1000,
                    ),
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


def panel(figures: Snapshot, everything: bool, suppressed: int) -> dict[str, Any]:
    """What the panel shows: every company's share when `everything` (a SuperAdmin, who also
    sees the process's counters and `suppressed`, the retried changes that changed nothing), or
    one company's share only, with no process-wide counter."""
    minutes = figures.minutes
    delivered = [m for m in minutes if m.p50 is not None]
    stats = figures.counters
    counters = {
        "delivered": stats.delivered,
        "replayed": stats.replayed,
        "resyncs": stats.resyncs,
        "slow_drops": stats.slow_drops,
        "slow_writes": stats.slow_writes,
        "suppressed": suppressed,
    }
    return {
        "scope": "everything" if everything else "company",
        "streams": figures.streams,
        "streams_per_kind": [(kind, figures.streams_per_kind[kind.value]) for kind in Kind],
        "events_this_minute": minutes[-1].events,
        "events_in_window": sum(m.events for m in minutes),
        "window_minutes": len(minutes),
        "latest_p50_ms": delivered[-1].p50 * 1000 if delivered and delivered[-1].p50 else None,
        "latest_p99_ms": delivered[-1].p99 * 1000 if delivered and delivered[-1].p99 else None,
        "events_chart": events_chart(minutes),
        "delay_chart": delay_chart(minutes),
        "counters": counters if everything else None,
        "last_events": [event_row(e) for e in figures.last_events],
        "last_event_id": figures.last_id,
        "pid": os.getpid(),
    }
