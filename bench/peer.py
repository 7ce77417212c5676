"""The peer: the same feature built the usual Litestar way, for a side-by-side comparison.

`GET /events` is a `litestar.response.ServerSentEvent` fed by one `litestar.channels`
subscriber per client (MemoryChannelsBackend); `POST /publish` publishes one event carrying
`changed_at`; `GET /health` answers `{"streams": n}`. No login, no database, no outbox: it is
the fan-out alone, served by uvicorn with its defaults (uvloop and httptools when installed).

Run: python -m bench.peer --port 8124"""

from __future__ import annotations

import argparse
from collections.abc import AsyncIterator
from typing import Any

import msgspec
import uvicorn
from litestar import Litestar, get, post
from litestar.channels import ChannelsPlugin
from litestar.channels.backends.memory import MemoryChannelsBackend
from litestar.datastructures import State
from litestar.response import ServerSentEvent, ServerSentEventMessage

from bench.payload import event_payload, now_iso

CHANNEL = "purchases"


@get("/events")
async def events(channels: ChannelsPlugin, state: State) -> ServerSentEvent:
    async def stream() -> AsyncIterator[ServerSentEventMessage]:
        async with channels.start_subscription([CHANNEL]) as subscriber:
            state.streams += 1
            try:
                async for message in subscriber.iter_events():
                    event = msgspec.json.decode(message)
                    yield ServerSentEventMessage(
                        data=message.decode(), event=event["type"], id=event["id"]
                    )
            finally:
                state.streams -= 1

    return ServerSentEvent(stream(), retry_duration=2000)


@post("/publish", status_code=200)
async def publish(channels: ChannelsPlugin, state: State) -> dict[str, int]:
    state.last_id += 1
    channels.publish(event_payload(state.last_id, now_iso()), [CHANNEL])
    return {"id": state.last_id}


@get("/health")
async def health(state: State) -> dict[str, Any]:
    return {"streams": state.streams, "last_event_id": state.last_id}


def create_app() -> Litestar:
    channels = ChannelsPlugin(backend=MemoryChannelsBackend(), channels=[CHANNEL])
    return Litestar(
        route_handlers=[events, publish, health],
        plugins=[channels],
        state=State({"streams": 0, "last_id": 0}),
        openapi_config=None,
    )


def serve_peer(app: Any, description: str | None) -> None:
    """Serve a peer's `app` on the port its command line names, as every peer is served."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    uvicorn.run(app, host="127.0.0.1", port=args.port, timeout_graceful_shutdown=1)


def main() -> None:
    serve_peer(create_app(), __doc__)


if __name__ == "__main__":
    main()
