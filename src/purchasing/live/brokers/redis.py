"""Redis pub/sub: announcements are `PUBLISH`ed, and a connection of its own `SUBSCRIBE`s."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from typing import Any

import redis.asyncio as redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from purchasing.live.brokers.base import CONNECT_TIMEOUT_S, KEEPALIVE_S, NetworkBroker


class RedisBroker(NetworkBroker):
    def __init__(self, url: str, namespace: str) -> None:
        super().__init__(url, namespace)
        self._publisher = self._client()

    def _client(self) -> redis.Redis:
        return redis.Redis.from_url(
            self.url,
            socket_connect_timeout=CONNECT_TIMEOUT_S,
            socket_timeout=CONNECT_TIMEOUT_S,
            health_check_interval=int(KEEPALIVE_S),
        )

    async def _listen(self, subscribed: Callable[[], None]) -> None:
        # No silent retries: a lost connection must surface here, to be logged and caught up on.
        client = redis.Redis.from_url(
            self.url, socket_connect_timeout=CONNECT_TIMEOUT_S, retry=Retry(NoBackoff(), 0)
        )
        pubsub = client.pubsub()
        try:
            await pubsub.subscribe(self.channel)
            heard_at = time.monotonic()
            while True:
                message = await pubsub.get_message(timeout=KEEPALIVE_S)
                if message is not None:
                    heard_at = time.monotonic()
                    if message["type"] == "subscribe":
                        subscribed()
                    elif message["type"] == "message":
                        self._heard(message["data"])
                elif time.monotonic() - heard_at > 2 * KEEPALIVE_S:
                    raise ConnectionError("Redis stopped answering pings")
                else:
                    await pubsub.ping()  # its pong counts as hearing from Redis
        finally:
            await _closed(pubsub.aclose())
            await _closed(client.aclose())

    async def _publish(self, payload: str) -> None:
        await self._publisher.publish(self.channel, payload)

    async def _close(self) -> None:
        await _closed(self._publisher.aclose())


async def _closed(closing: Awaitable[Any]) -> None:
    """Close a client or its connection, giving up after CONNECT_TIMEOUT_S: redis-py can wait
    for good on a connection whose command was cancelled half-way (a publish cut by `stop`),
    which held a process's shutdown forever."""
    with contextlib.suppress(Exception):
        await asyncio.wait_for(closing, CONNECT_TIMEOUT_S)
