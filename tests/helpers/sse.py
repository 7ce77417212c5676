"""A small reader of `text/event-stream` for tests: frames as they arrive, comments included."""

from __future__ import annotations

import asyncio
import inspect
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx

WAIT_S = 10.0


@dataclass
class Frame:
    id: str | None = None
    event: str = "message"
    data: str = ""
    comment: str | None = None
    retry: int | None = None

    @property
    def json(self) -> Any:
        return json.loads(self.data)


@dataclass
class Stream:
    response: httpx.Response
    frames: asyncio.Queue[Frame] = field(default_factory=asyncio.Queue)
    ended: asyncio.Event = field(default_factory=asyncio.Event)

    async def next(self, wait_s: float = WAIT_S) -> Frame:
        return await asyncio.wait_for(self.frames.get(), wait_s)

    async def next_event(self, wait_s: float = WAIT_S) -> Frame:
        """The next frame that is an event (heartbeats and `retry:` skipped)."""
        while True:
            frame = await self.next(wait_s)
            if frame.comment is None and frame.retry is None:
                return frame

    async def events(self, count: int, wait_s: float = WAIT_S) -> list[Frame]:
        return [await self.next_event(wait_s) for _ in range(count)]

    def pending(self) -> list[Frame]:
        frames = []
        while not self.frames.empty():
            frames.append(self.frames.get_nowait())
        return frames


def parse(block: str) -> Frame:
    frame = Frame()
    data: list[str] = []
    for line in block.split("\n"):
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "":
            frame.comment = value
        elif name == "id":
            frame.id = value
        elif name == "event":
            frame.event = value
        elif name == "data":
            data.append(value)
        elif name == "retry":
            frame.retry = int(value)
    frame.data = "\n".join(data)
    return frame


@asynccontextmanager
async def open_stream(
    client: httpx.AsyncClient, url: str = "/events", headers: dict[str, str] | None = None
) -> AsyncIterator[Stream]:
    async with client.stream("GET", url, headers=headers or {}, timeout=None) as response:
        stream = Stream(response)

        async def pump() -> None:
            buffer = ""
            try:
                async for text in response.aiter_text():
                    buffer += text
                    while "\n\n" in buffer:
                        block, buffer = buffer.split("\n\n", 1)
                        await stream.frames.put(parse(block))
            except httpx.HTTPError:
                pass
            finally:
                stream.ended.set()

        task = asyncio.create_task(pump())
        try:
            yield stream
        finally:
            task.cancel()


async def eventually(check: Callable[[], bool | Awaitable[bool]], wait_s: float = WAIT_S) -> None:
    """Wait until `check()` (or what it returns, awaited) holds: an effect that has no event to
    wait on. Fails after `wait_s`."""
    deadline = asyncio.get_running_loop().time() + wait_s
    while True:
        held = check()
        if inspect.isawaitable(held):
            held = await held
        if held:
            return
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)  # polling, with a deadline, for an effect with no event
