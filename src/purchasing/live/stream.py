"""The SSE stream of one browser tab, as the ASGI response of `GET /events`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from litestar.types import HTTPResponseStartEvent, Receive, Scope, Send

from purchasing import i18n
from purchasing.domain.actor import Actor
from purchasing.domain.permissions import Action, can
from purchasing.domain.roles import Role
from purchasing.domain.statuses import Kind
from purchasing.live.fanout import TooManyStreams
from purchasing.live.hub import Hub
from purchasing.live.presence import Here
from purchasing.live.subscriber import DirectWriter, Owner, Visible

# The scope key under which the server's own `send` is kept, before any middleware wraps it
# (the served app's front puts it there): a direct writer is found from it.
SERVER_SEND = "purchasing.server_send"
DirectWriters = Callable[[Any], DirectWriter | None]

# Copied into each response: the middlewares add their own headers (cookies, security) to it.
HEADERS = (
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-store"),
    (b"x-accel-buffering", b"no"),
)


def readable_kinds(actor: Actor) -> frozenset[str]:
    return frozenset(kind.value for kind in Kind if can(actor.role, Action.READ, kind))


def visible_to(actor: Actor) -> Visible:
    """The same rule as the tables: kinds the role may read, then all purchases, the actor's
    company's, or an Operator's farms'."""
    kinds = readable_kinds(actor)
    if actor.sees_everything:
        return lambda event: event.kind in kinds
    company = actor.company_id
    if actor.role is Role.OPERATOR:
        farms = actor.farm_ids
        return lambda event: (
            event.kind in kinds and event.farm_id in farms and event.company_id == company
        )
    return lambda event: event.kind in kinds and event.company_id == company


class EventStream:
    """Frames for one tab until it disconnects, its session ends or the server stops.

    The connection's own task (the server's) only waits for the client to leave; the hub writes
    the frames, its heartbeat timer the heartbeats. `direct`, given the server's own `send`,
    returns a writer straight to the connection when the server allows one."""

    __slots__ = (
        "actor",
        "cursor",
        "direct",
        "heres",
        "hub",
        "language",
        "retry_ms",
        "session_id",
    )

    def __init__(
        self,
        hub: Hub,
        actor: Actor,
        cursor: str | None,
        retry_ms: int,
        session_id: str,
        direct: DirectWriters | None = None,
        heres: tuple[Here, ...] = (),
        language: str = i18n.SOURCE,
    ) -> None:
        self.hub = hub
        self.actor = actor
        self.cursor = cursor
        self.retry_ms = retry_ms
        self.session_id = session_id
        self.direct = direct
        self.heres = heres  # the purchases the browser's tabs have open (live/presence.py)
        self.language = language  # of a refusal's words; the frames have none

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        owner = Owner(self.session_id, self.actor)
        try:
            with i18n.use(self.language):
                subscriber = await self.hub.subscribe(
                    visible_to(self.actor), self.cursor, owner, readable_kinds(self.actor)
                )
        except TooManyStreams as refusal:
            await _refuse(send, refusal)
            return
        actor = self.actor
        self.hub.presence.join(subscriber, actor.id, actor.full_name, self.heres)
        try:
            start: HTTPResponseStartEvent = {
                "type": "http.response.start",
                "status": 200,
                "headers": list(HEADERS),
            }
            await send(start)
            server_send = scope.get(SERVER_SEND)
            direct = self.direct(server_send) if self.direct and server_send else None
            subscriber.start(send, b"retry: %d\n\n" % self.retry_ms, direct)
            while (await receive())["type"] != "http.disconnect":
                pass  # a GET has no body; wait for the client to go or the stream to end
        finally:
            self.hub.presence.leave(subscriber)
            self.hub.unsubscribe(subscriber)


async def _refuse(send: Send, refusal: TooManyStreams) -> None:
    """429 with the reason as text: an EventSource cannot read it, so the page asks again with
    `fetch` to show it (static/js/tab-sharing.js)."""
    start: HTTPResponseStartEvent = {
        "type": "http.response.start",
        "status": 429,
        "headers": [
            (b"content-type", b"text/plain; charset=utf-8"),
            (b"cache-control", b"no-store"),
            (b"retry-after", str(refusal.retry_after_s).encode()),
        ],
    }
    await send(start)
    body = str(refusal).encode()
    await send({"type": "http.response.body", "body": body, "more_body": False})
