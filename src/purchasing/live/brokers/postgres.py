"""PostgreSQL LISTEN/NOTIFY: announcements are `pg_notify`, and a connection of its own LISTENs."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

import asyncpg

from purchasing.live.brokers.base import CONNECT_TIMEOUT_S, KEEPALIVE_S, NetworkBroker


class PostgresBroker(NetworkBroker):
    """LISTEN on a connection of its own (named `purchasing-broker` in pg_stat_activity)."""

    APPLICATION_NAME = "purchasing-broker"

    def __init__(self, url: str, namespace: str) -> None:
        super().__init__(url, namespace)
        self._publisher: asyncpg.Connection[Any] | None = None

    async def _connect(self) -> asyncpg.Connection[Any]:
        return await asyncpg.connect(
            self.url,
            timeout=CONNECT_TIMEOUT_S,
            server_settings={"application_name": self.APPLICATION_NAME},
        )

    async def _listen(self, subscribed: Callable[[], None]) -> None:
        connection = await self._connect()
        lost = asyncio.Event()
        connection.add_termination_listener(lambda _: lost.set())
        try:
            await connection.add_listener(self.channel, lambda *args: self._heard(args[-1]))
            subscribed()
            while not lost.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(lost.wait(), KEEPALIVE_S)
                if not lost.is_set():
                    await connection.execute("SELECT 1", timeout=CONNECT_TIMEOUT_S)
            raise ConnectionError("the LISTEN connection was closed")
        finally:
            if not connection.is_closed():
                connection.terminate()

    async def _publish(self, payload: str) -> None:
        if self._publisher is None or self._publisher.is_closed():
            self._publisher = await self._connect()
        await self._publisher.execute(
            "SELECT pg_notify($1, $2)", self.channel, payload, timeout=CONNECT_TIMEOUT_S
        )

    async def _reset_publisher(self) -> None:
        if self._publisher is not None:
            self._publisher.terminate()
            self._publisher = None

    async def _close(self) -> None:
        await self._reset_publisher()
