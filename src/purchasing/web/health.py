"""GET /health: the process answers (no I/O, no session), with a few counters of its own for
this machine or the metrics token. GET /ready: it can do its work: database and broker
reachable, outbox reader running and not behind. Neither needs a session; neither says anything
a stranger should not know."""

from __future__ import annotations

import asyncio
from typing import Any

from litestar import Request, Response, get
from litestar.status_codes import HTTP_200_OK, HTTP_503_SERVICE_UNAVAILABLE

from purchasing.live.hub import Hub
from purchasing.web.metrics import operator_refusal


@get("/health", name="health", exclude_from_auth=True, exclude_from_csrf=True)
async def health(request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
    """Alive: `{"status": "ok"}` for anyone. To this machine (directly, not through a proxy) or
    with the metrics token, also the process's figures: `streams` are its open event streams,
    `direct_streams` those written straight to their connection's transport
    (`serving/chunks.py`), `tasks` its asyncio tasks (one per open connection, plus a few of
    the app's own); `hub` counts the events read and
    replayed, the resyncs sent and the writes that waited for a slow client; `broker` the
    wake-ups this process announced to the others and heard from them; `fragments` the table
    renders, shared renders and 304s; `gc` the garbage collector's pauses by generation, and
    how often the open streams' objects were frozen out of its way and given back."""
    headers = {"Cache-Control": "no-store"}
    if operator_refusal(request) is not None:
        return Response({"status": "ok"}, headers=headers)
    hub: Hub = request.app.state.hub
    figures = {
        "status": "ok",
        **hub.figures(),
        "tasks": len(asyncio.all_tasks()),
        "fragments": vars(request.app.state.fragments.stats),
        "gc": {
            **request.app.state.gc_pauses.as_dict(),
            "stream_freezes": hub.fanout.freezer.freezes,
            "stream_thaws": hub.fanout.freezer.thaws,
        },
    }
    return Response(figures, headers=headers)


@get("/ready", name="ready", exclude_from_auth=True, exclude_from_csrf=True)
async def ready(request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
    """200 when this process can serve live tables, 503 (with the failing checks) when not: for a
    load balancer or an orchestrator to route around it. `lag` is how far the outbox reader is
    behind the outbox; more than `READY_MAX_LAG_S` seconds is not ready."""
    hub: Hub = request.app.state.hub
    max_lag_s: float = request.app.state.settings.ready_max_lag_s
    checks = {"database": "ok", "broker": "ok", "outbox_reader": "ok", "lag": "ok"}
    lag: dict[str, Any] = {"events": None, "seconds": None}
    try:
        events, seconds = await hub.lag()
        lag = {"events": events, "seconds": round(seconds, 3)}
        if seconds > max_lag_s:
            checks["lag"] = f"behind by {seconds:.1f} s (limit {max_lag_s:g} s)"
    except Exception as error:  # refused, timed out, no such table: the app cannot work
        checks["database"] = f"unreachable ({type(error).__name__})"
        checks["lag"] = "unknown"
    if not hub.broker.connected:
        checks["broker"] = "unreachable"
    if not hub.reading:
        checks["outbox_reader"] = "not reading"
    ok = all(value == "ok" for value in checks.values())
    return Response(
        {"status": "ready" if ok else "not ready", "checks": checks, "lag": lag},
        status_code=HTTP_200_OK if ok else HTTP_503_SERVICE_UNAVAILABLE,
        headers={"Cache-Control": "no-store"},
    )
