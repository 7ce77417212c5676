"""The SSE byte stream of one browser tab: retry, replayed and live frames, heartbeats."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from purchasing.domain.actor import Actor
from purchasing.domain.roles import Role
from purchasing.live.hub import Hub, Visible

HEARTBEAT = b": ping\n\n"


def visible_to(actor: Actor) -> Visible:
    """The same rule as the tables: all, the actor's company, or an Operator's farms."""
    if actor.sees_everything:
        return lambda event: True
    if actor.role is Role.OPERATOR:
        farms = actor.farm_ids
        return lambda event: event.farm_id in farms
    company = actor.company_id
    return lambda event: event.company_id == company


async def sse_stream(
    hub: Hub, actor: Actor, cursor: str | None, retry_ms: int, heartbeat_s: float
) -> AsyncIterator[bytes]:
    """Frames for one tab until it disconnects or the server stops; cleaned up either way."""
    subscriber = await hub.subscribe(visible_to(actor), cursor)
    try:
        yield b"retry: %d\n\n" % retry_ms
        while True:
            if subscriber.frames:
                yield subscriber.take()
                continue
            if subscriber.closed:
                return
            subscriber.wake.clear()
            try:
                await asyncio.wait_for(subscriber.wake.wait(), timeout=heartbeat_s)
            except TimeoutError:
                yield HEARTBEAT
    finally:
        hub.unsubscribe(subscriber)
