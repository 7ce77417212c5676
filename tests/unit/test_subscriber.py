"""A stream's writer: frames go straight to the connection; a paused connection gathers a
backlog that goes out as one chunk, or becomes one resync when it outgrows the limit."""

from __future__ import annotations

import asyncio
from typing import Any

from purchasing.live.events import Event, encode
from purchasing.live.subscriber import HubStats, Subscriber


def event(event_id: int, kind: str = "supply") -> Event:
    frame = encode(event_id, f"{kind}_purchase_status_changed", {"kind": kind})
    return Event(
        event_id, f"{kind}_purchase_status_changed", kind, 1, 1, frame, {"kind": kind}, 0.0
    )


class Connection:
    """An ASGI `send` that records bodies; while `paused`, a write waits as a slow client's."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []
        self.ended = False
        self.paused: asyncio.Future[None] | None = None
        self.broken = False

    async def send(self, message: dict[str, Any]) -> None:
        if self.broken:
            raise OSError("connection reset")
        if self.paused is not None:
            await self.paused
        self.bodies.append(message["body"])
        self.ended = not message["more_body"]

    def pause(self) -> None:
        self.paused = asyncio.get_running_loop().create_future()

    async def resume(self) -> None:
        assert self.paused is not None
        self.paused.set_result(None)
        self.paused = None
        await asyncio.sleep(0)  # let the waiting write's callback run


def started(connection: Connection, limit: int = 4) -> Subscriber:
    subscriber = Subscriber(lambda e: e.kind == "supply", 0, limit, HubStats())
    subscriber.start(connection.send, b"retry: 2000\n\n")
    return subscriber


async def test_frames_go_out_at_once_with_no_task_of_their_own() -> None:
    connection = Connection()
    tasks_before = len(asyncio.all_tasks())
    subscriber = started(connection)
    subscriber.offer(event(1))
    subscriber.flush()
    assert connection.bodies == [b"retry: 2000\n\n", event(1).frame]
    assert len(asyncio.all_tasks()) == tasks_before


async def test_only_what_the_stream_may_see_and_has_not_seen_is_written() -> None:
    connection = Connection()
    subscriber = started(connection)
    assert not subscriber.offer(event(1, kind="feed"))
    assert subscriber.offer(event(2))
    assert not subscriber.offer(event(2))
    subscriber.flush()
    assert connection.bodies[1:] == [event(2).frame]


async def test_a_paused_connection_gets_its_backlog_as_one_chunk_when_it_drains() -> None:
    connection = Connection()
    subscriber = started(connection)
    connection.pause()
    for n in (1, 2, 3):
        subscriber.offer(event(n))
        subscriber.flush()
    assert connection.bodies == [b"retry: 2000\n\n"]
    await connection.resume()
    # The first write was waiting; the other two gathered and follow as one chunk.
    assert connection.bodies[1:] == [event(1).frame, event(2).frame + event(3).frame]


async def test_a_backlog_beyond_the_limit_becomes_one_resync() -> None:
    connection = Connection()
    subscriber = started(connection, limit=2)
    connection.pause()
    for n in range(1, 6):
        subscriber.offer(event(n))
        subscriber.flush()
    await connection.resume()
    assert subscriber.stats.slow_drops == 1
    written = b"".join(connection.bodies[1:])
    assert written.count(b"event: resync") == 1
    assert b"id: 5\n" in written


async def test_closing_ends_the_response_after_the_backlog() -> None:
    connection = Connection()
    subscriber = started(connection)
    connection.pause()
    subscriber.offer(event(1))
    subscriber.flush()
    subscriber.offer(event(2))
    subscriber.close()
    assert not connection.ended
    await connection.resume()
    assert connection.ended
    assert connection.bodies[-1] == event(2).frame
    subscriber.offer(event(3))
    subscriber.flush()
    assert event(3).frame not in connection.bodies


async def test_a_broken_connection_stops_the_stream_quietly() -> None:
    connection = Connection()
    subscriber = started(connection)
    connection.broken = True
    subscriber.offer(event(1))
    subscriber.flush()
    assert subscriber.closed
    assert subscriber.frames == []


async def test_a_write_waiting_on_an_event_goes_on_when_it_is_set() -> None:
    """As uvicorn's send waits for its transport to drain: on an `asyncio.Event`."""
    drained, bodies = asyncio.Event(), []

    async def send(message: dict[str, Any]) -> None:
        await drained.wait()
        bodies.append(message["body"])

    subscriber = Subscriber(lambda e: e.kind == "supply", 0, 4, HubStats())
    subscriber.start(send, b"retry: 2000\n\n")
    subscriber.offer(event(1))
    subscriber.flush()
    assert bodies == []
    drained.set()
    await asyncio.sleep(0)  # the event's waiter wakes, then the write goes on
    await asyncio.sleep(0)
    assert bodies == [b"retry: 2000\n\n", event(1).frame]
    assert not subscriber.closed
