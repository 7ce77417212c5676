"""The SSE byte stream of one browser tab: retry, replayed and live frames, heartbeats."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from purchasing.domain.actor import Actor
from purchasing.domain.permissions import Action, can
from purchasing.domain.roles import Role
from purchasing.domain.statuses import Kind
from purchasing.live.hub import Hub, Owner, Visible

HEARTBEAT = b": ping\n\n"


def visible_to(actor: Actor) -> Visible:
    """The same rule as the tables: kinds the role may read, then all purchases, the actor's
    company's, or an Operator's farms'."""
    kinds = {kind.value for kind in Kind if can(actor.role, Action.READ, kind)}
    if actor.sees_everything:
        return lambda event: event.kind in kinds
    if actor.role is Role.OPERATOR:
        farms = actor.farm_ids
        return lambda event: event.kind in kinds and event.farm_id in farms
    company = actor.company_id
    return lambda event: event.kind in kinds and event.company_id == company


async def sse_stream(
    hub: Hub, actor: Actor, cursor: str | None, retry_ms: int, heartbeat_s: float, session_id: str
) -> AsyncIterator[bytes]:
    """Frames for one tab until it disconnects, its session ends or the server stops."""
    subscriber = await hub.subscribe(visible_to(actor), cursor, Owner(session_id, actor.id))
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
