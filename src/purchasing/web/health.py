"""GET /health: the process answers, with a few counters of its own (no I/O, no session)."""

from __future__ import annotations

import asyncio
from typing import Any

from litestar import Request, get

from purchasing.live.hub import Hub


@get("/health", name="health", exclude_from_auth=True)
async def health(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """Alive. `streams` are this process's open event streams, `direct_streams` those written
    straight to their connection's transport (`live/transport.py`), `tasks` its asyncio tasks
    (one per open connection, plus a few of the app's own); `hub` counts the events read and
    replayed, the resyncs sent and the writes that waited for a slow client; `broker` the
    wake-ups this process announced to the others and heard from them; `fragments` the table
    renders, shared renders and 304s; `gc` the garbage collector's pauses by generation."""
    hub: Hub = request.app.state.hub
    return {
        "status": "ok",
        "streams": len(hub.subscribers),
        "direct_streams": sum(s.direct is not None for s in hub.subscribers),
        "tasks": len(asyncio.all_tasks()),
        "last_event_id": hub.last_id,
        "hub": vars(hub.stats),
        "fragments": vars(request.app.state.fragments.stats),
        "gc": request.app.state.gc_pauses.as_dict(),
        "broker": {
            "crosses_processes": hub.broker.crosses_processes,
            "connected": hub.broker.connected,
            "announced": hub.broker.stats.announced,
            "heard": hub.broker.stats.heard,
            "outages": hub.broker.stats.outages,
        },
    }
