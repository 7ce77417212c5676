"""Processes for the concurrent-writer test: writers that commit (and sometimes roll back) outbox
events, and readers that follow the outbox the way the app's reader does and report every id."""

from __future__ import annotations

import asyncio
import random
from multiprocessing.queues import Queue
from typing import Any

from purchasing import db
from purchasing.live import outbox


class Abandon(Exception):
    """Rolls a writer's transaction back after its event was inserted."""


def write(url: str, writer: int, count: int, results: Queue[Any]) -> None:
    """`count` transactions; every fifth one rolls back after inserting its event."""

    async def work() -> tuple[int, int]:
        engine = db.use_database(url)
        await db.start(engine, pool_size=2)
        committed = abandoned = 0
        try:
            for n in range(count):
                try:
                    async with db.write_transaction():
                        await outbox.write("load", "supply", n, writer, writer, {"n": n})
                        await asyncio.sleep(random.random() / 500)  # noqa: S311 (hold the lock a little)
                        if n % 5 == 4:
                            raise Abandon
                    committed += 1
                except Abandon:
                    abandoned += 1
        finally:
            await db.stop(engine)
        return committed, abandoned

    try:
        results.put(("writer", writer, *asyncio.run(work())))
    except Exception as error:  # reported, so the test fails at once instead of waiting
        results.put(("writer", writer, -1, repr(error)))


def read(url: str, reader: int, expected: int, results: Queue[Any]) -> None:
    """Read after the newest id seen, like the hub, until `expected` events; report the ids."""

    async def work() -> list[int]:
        engine = db.use_database(url)
        await db.start(engine, pool_size=1)
        seen: list[int] = []
        try:
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 60
            while len(seen) < expected and loop.time() < deadline:
                rows = await outbox.read_after(seen[-1] if seen else 0, 50)
                seen.extend(int(row["id"]) for row in rows)
                if not rows:
                    await asyncio.sleep(0.001)
        finally:
            await db.stop(engine)
        return seen

    results.put(("reader", reader, asyncio.run(work())))
