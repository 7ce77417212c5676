"""Wake-ups between processes. The outbox holds the events; a broker only says "new events up to N".

`memory://` (the default) crosses no process: a local commit wakes the local reader directly.
`redis://host:port/db` uses Redis pub/sub; `postgres://...` uses PostgreSQL LISTEN/NOTIFY. Either
speaks on one channel per deployment, named by its namespace (`channel_of`): Redis pub/sub
ignores the database a URL names, so two deployments on one Redis would otherwise hear each other.

A lost wake-up loses nothing, because every reader also catches up from the outbox on a timer. When
the broker is unreachable that is logged once, the readers go on catching up on the timer, and the
broker reconnects by itself, logging when it is back. On reconnecting it also wakes the reader at
once, so what was announced during the outage is read then, not at the next timer.

Why not Litestar's channels backends (`litestar.channels.backends`, Litestar 2.25): tried
against a Redis stopped for 5 s and a LISTEN connection ended by `pg_terminate_backend`, neither
comes back. The Redis pub/sub backend's `stream_events` raises `ConnectionError` out of the
plugin's subscriber task, which ends for good; the asyncpg backend keeps the one LISTEN
connection it opened at startup, closed, with no termination listener, so it waits forever and
says nothing. Neither tells us when it has reconnected (our cue to catch up), and the asyncpg
backend opens a new connection for every publish. What we need is small (one channel, one
integer, newest only), so each backend here is a short class over redis-py or asyncpg:
`brokers/redis.py`, `brokers/postgres.py`, the shared reconnecting loop in `brokers/base.py`.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from purchasing.live.brokers.base import Broker, NetworkBroker, Wake, channel_of, where
from purchasing.live.brokers.postgres import PostgresBroker
from purchasing.live.brokers.redis import RedisBroker

__all__ = [
    "Broker",
    "NetworkBroker",
    "PostgresBroker",
    "RedisBroker",
    "Wake",
    "broker_from_url",
    "channel_of",
    "where",
]


def broker_from_url(url: str, namespace: str) -> Broker:
    """The broker behind `url`, speaking for the deployment `namespace` names."""
    scheme = urlsplit(url).scheme
    if scheme == "memory":
        return Broker(url)
    if scheme in {"redis", "rediss"}:
        return RedisBroker(url, namespace)
    if scheme in {"postgres", "postgresql"}:
        return PostgresBroker(url, namespace)
    raise ValueError(
        f"BROKER_URL must start with memory://, redis:// or postgres://, not {scheme!r}"
    )
