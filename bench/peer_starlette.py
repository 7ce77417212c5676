"""The second peer: the same feature built the usual sse-starlette way, side by side with ours.

sse-starlette (the most-downloaded SSE library for Python) on a plain Starlette app, with the
in-process broadcast its own examples show: one bounded `asyncio.Queue` per subscriber, and a
publish that puts one `ServerSentEvent` into every queue (`put_nowait`; a subscriber whose
queue is full is dropped). `GET /events` is an `EventSourceResponse` over an async generator
that takes from the client's queue; it first sends a `retry:` frame, as ours, the floor and
the Litestar peer do (the bench counts a stream as open at its first body chunk).
`POST /publish` publishes one event shaped like ours (bench/payload.py) carrying
`changed_at`; `GET /health` answers `{"streams": n}`. No login, no database, no outbox: the
fan-out alone, served by uvicorn with its defaults (uvloop and httptools when installed).

Run: python -m bench.peer_starlette --port 8125"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from sse_starlette import EventSourceResponse, JSONServerSentEvent, ServerSentEvent
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from bench.payload import EVENT_TYPE, event_payload, now_iso
from bench.peer import serve_peer

QUEUE_SIZE = 100  # per subscriber, as in sse-starlette's broadcasting example
RETRY_MS = 2000


class Broadcaster:
    """Every subscriber's queue; a publish puts the same event into each one."""

    def __init__(self) -> None:
        self.queues: list[asyncio.Queue[ServerSentEvent]] = []
        self.last_id = 0

    def subscribe(self) -> asyncio.Queue[ServerSentEvent]:
        queue: asyncio.Queue[ServerSentEvent] = asyncio.Queue(maxsize=QUEUE_SIZE)
        self.queues.append(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[ServerSentEvent]) -> None:
        if queue in self.queues:
            self.queues.remove(queue)

    def publish(self) -> int:
        """One event, encoded by sse-starlette's JSON event class, into every queue."""
        self.last_id += 1
        payload = event_payload(self.last_id, now_iso())
        event = JSONServerSentEvent(payload, event=EVENT_TYPE, id=str(self.last_id))
        full = []
        for queue in self.queues:
            try:
                queue.put_nowait(event)
            except asyncio.QueueFull:
                full.append(queue)
        for queue in full:
            self.unsubscribe(queue)
        return self.last_id

    async def stream(self) -> AsyncIterator[ServerSentEvent]:
        """One client's events, until it goes (EventSourceResponse cancels this generator)."""
        queue = self.subscribe()
        try:
            yield ServerSentEvent(retry=RETRY_MS)
            while True:
                yield await queue.get()
        finally:
            self.unsubscribe(queue)


def _broadcaster(request: Request) -> Broadcaster:
    broadcaster: Broadcaster = request.app.state.broadcaster
    return broadcaster


async def events(request: Request) -> EventSourceResponse:
    return EventSourceResponse(_broadcaster(request).stream())


async def publish(request: Request) -> JSONResponse:
    return JSONResponse({"id": _broadcaster(request).publish()})


async def health(request: Request) -> JSONResponse:
    broadcaster = _broadcaster(request)
    return JSONResponse({"streams": len(broadcaster.queues), "last_event_id": broadcaster.last_id})


def create_app() -> Starlette:
    app = Starlette(
        routes=[
            Route("/events", events),
            Route("/publish", publish, methods=["POST"]),
            Route("/health", health),
        ]
    )
    app.state.broadcaster = Broadcaster()
    return app


def main() -> None:
    serve_peer(create_app(), __doc__)


if __name__ == "__main__":
    main()
