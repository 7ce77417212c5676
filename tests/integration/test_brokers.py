"""The brokers that wake other processes: Redis pub/sub and PostgreSQL LISTEN/NOTIFY, including
their outages. A broker only says "events up to N are committed"; the outbox stays the truth. Each
deployment speaks on its own channel, named by its namespace."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
import pytest

from purchasing.live.brokers import Broker, PostgresBroker, RedisBroker, broker_from_url
from purchasing.live.brokers.base import CONNECT_TIMEOUT_S
from tests.helpers.brokers import Heard
from tests.helpers.servers import POSTGRES_URL, private_redis, throwaway_database
from tests.helpers.sse import eventually

NAMESPACE = "tests"


@asynccontextmanager
async def running(url: str, namespace: str = NAMESPACE) -> AsyncIterator[tuple[Broker, Heard]]:
    broker, heard = broker_from_url(url, namespace), Heard()
    await broker.start(heard)
    try:
        await eventually(lambda: broker.connected)
        yield broker, heard
    finally:
        await broker.stop()


@pytest.fixture(params=["redis", "postgres"])
async def broker_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A broker of the test's own: Redis pub/sub channels are the same in every database of a
    server, so tests running at once on one Redis would hear each other's ids."""
    if request.param == "redis":
        with private_redis(tmp_path) as server:
            yield server.url
    else:
        async with throwaway_database() as url:  # LISTEN channels are per database
            yield url


async def test_an_announcement_reaches_every_other_process(broker_url: str) -> None:
    async with running(broker_url) as (a, heard_a), running(broker_url) as (_, heard_b):
        heard_b.ids.clear()  # the "catch up now" each gets on subscribing
        a.announce(41)
        await eventually(lambda: heard_b.newest() == 41)
        await eventually(lambda: heard_a.newest() == 41)


async def test_a_burst_of_commits_ends_with_the_newest_id(broker_url: str) -> None:
    async with running(broker_url) as (a, _), running(broker_url) as (_, heard_b):
        for event_id in range(1, 201):
            a.announce(event_id)
        await eventually(lambda: heard_b.newest() == 200)
        assert all(i is None or 1 <= i <= 200 for i in heard_b.ids)
        # Announcements are coalesced to the newest id, so a burst costs far fewer messages.
        assert a.stats.announced < 200


async def test_deployments_in_other_namespaces_never_hear_each_other(broker_url: str) -> None:
    async with (
        running(broker_url, "north") as (north, heard_north),
        running(broker_url, "north") as (_, heard_north_too),
        running(broker_url, "south") as (south, heard_south),
    ):
        north.announce(41)
        await eventually(lambda: heard_north_too.newest() == 41)
        await eventually(lambda: heard_north.newest() == 41)
        # Sent after 41 reached the server: the south would have heard 41 before its own 42.
        south.announce(42)
        await eventually(lambda: heard_south.newest() == 42)
        assert 41 not in heard_south.ids
        assert 42 not in heard_north.ids + heard_north_too.ids


async def test_redis_databases_do_not_part_deployments_their_namespaces_do(
    tmp_path: Path,
) -> None:
    """Redis pub/sub ignores the database a URL names: processes of one deployment on /3 and /9
    hear each other, and another deployment on /3 hears neither."""
    with private_redis(tmp_path) as server:
        on = server.url.rsplit("/", 1)[0]
        async with (
            running(f"{on}/3", "north") as (north, _),
            running(f"{on}/9", "north") as (_, heard_north_on_9),
            running(f"{on}/3", "south") as (south, heard_south),
        ):
            north.announce(41)
            await eventually(lambda: heard_north_on_9.newest() == 41)
            south.announce(42)
            await eventually(lambda: heard_south.newest() == 42)
            assert 41 not in heard_south.ids


async def test_stopping_in_the_middle_of_announcing_ends_within_its_bound(
    broker_url: str,
) -> None:
    """A process that commits and stops at once (`purchasing simulate`) stops, whatever its
    announcer was doing: stop cuts its tasks and gives each closing CONNECT_TIMEOUT_S."""
    for attempt in range(20):
        broker = broker_from_url(broker_url, NAMESPACE)
        await broker.start(Heard())
        for event_id in range(1, attempt + 2):
            broker.announce(event_id)
            await asyncio.sleep(0)
        await asyncio.sleep(attempt * 0.001)  # stop at a different point of the publishing
        # Cut, retried and closed, with room to spare; forever before the bound.
        await asyncio.wait_for(broker.stop(), 4 * CONNECT_TIMEOUT_S)


def test_unknown_broker_urls_are_refused_with_the_choices() -> None:
    with pytest.raises(ValueError, match="memory://, redis:// or postgres://"):
        broker_from_url("kafka://127.0.0.1:9092", NAMESPACE)
    assert isinstance(broker_from_url("redis://127.0.0.1:6379/0", NAMESPACE), RedisBroker)
    assert isinstance(broker_from_url("postgres://u@h/db", NAMESPACE), PostgresBroker)
    assert not broker_from_url("memory://", NAMESPACE).crosses_processes


def outage_logged(caplog: pytest.LogCaptureFixture, words: str) -> Callable[[], bool]:
    return lambda: any(words in record.getMessage() for record in caplog.records)


async def test_a_redis_outage_is_logged_and_the_broker_comes_back_by_itself(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="purchasing.broker")
    with private_redis(tmp_path) as server:
        async with running(server.url) as (a, _), running(server.url) as (b, heard_b):
            server.stop()
            await eventually(outage_logged(caplog, "unreachable"))
            await eventually(lambda: not b.connected)
            a.announce(7)  # lost: the readers' timer covers it
            await eventually(outage_logged(caplog, "could not announce event 7"))

            heard_b.ids.clear()
            server.start()
            await eventually(outage_logged(caplog, "reachable again"), wait_s=20)
            await eventually(lambda: b.connected)
            # Back: the reader is told to catch up at once, and announcements flow again.
            assert None in heard_b.ids
            a.announce(8)
            await eventually(lambda: heard_b.newest() == 8)
    assert b.stats.outages == 1


async def test_a_killed_listen_connection_is_logged_and_reopened(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="purchasing.broker")
    async with throwaway_database() as url, running(url) as (a, _), running(url) as (b, heard_b):
        admin = await asyncpg.connect(POSTGRES_URL)
        try:
            killed = await admin.fetchval(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE application_name = $1 AND datname = $2",
                PostgresBroker.APPLICATION_NAME,
                url.rsplit("/", 1)[1],
            )
        finally:
            await admin.close()
        assert killed >= 2  # both brokers' LISTEN connections (and maybe a publisher)
        await eventually(outage_logged(caplog, "unreachable"))
        await eventually(outage_logged(caplog, "reachable again"), wait_s=20)
        await eventually(lambda: a.connected and b.connected)
        a.announce(9)
        await eventually(lambda: heard_b.newest() == 9)
