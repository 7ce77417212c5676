"""GET /health: the process answers, with a few counters of its own (no I/O, no session)."""

from __future__ import annotations

import asyncio
from typing import Any

from litestar import Request, get

from purchasing.live.hub import Hub


@get("/health", name="health", exclude_from_auth=True)
async def health(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """Alive. `streams` are this process's open event streams, `tasks` its asyncio tasks (one
    per open connection, plus a few of the app's own); `broker` counts the wake-ups this process
    announced to the others and heard from them; `fragments` the table renders, shared renders
    and 304s."""
    hub: Hub = request.app.state.hub
    return {
        "status": "ok",
        "streams": len(hub.subscribers),
        "tasks": len(asyncio.all_tasks()),
        "last_event_id": hub.last_id,
        "fragments": vars(request.app.state.fragments.stats),
        "broker": {
            "crosses_processes": hub.broker.crosses_processes,
            "connected": hub.broker.connected,
            "announced": hub.broker.stats.announced,
            "heard": hub.broker.stats.heard,
            "outages": hub.broker.stats.outages,
        },
    }
