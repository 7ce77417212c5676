"""Two app processes on different ports sharing one PostgreSQL and one broker (Redis pub/sub, or
PostgreSQL LISTEN/NOTIFY): a change through one reaches a page on the other; a killed process's
page resumes on the survivor with nothing lost; a broker outage loses nothing and heals itself."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx
import pytest

from purchasing import db
from purchasing.live.brokers import PostgresBroker
from purchasing.live.presence import BEAT_S
from purchasing.tables import Purchase
from tests.helpers.app import Clerk
from tests.helpers.demo import a_purchase, move
from tests.helpers.report import TEST_REPORT
from tests.helpers.seeded import postgres_template
from tests.helpers.servers import (
    POSTGRES_URL,
    AppServer,
    PrivateRedis,
    private_redis,
    throwaway_database,
)
from tests.helpers.sse import Stream, eventually, open_stream

MEASURED_CHANGES = 20
# The catch-up timer at its slowest, so that a delivery much faster than it came by the broker.
CATCH_UP_S = "2"


@dataclass
class Cluster:
    broker: str
    database_url: str
    a: AppServer
    b: AppServer
    redis: PrivateRedis | None
    stack: AsyncExitStack

    async def clerk(self, server: AppServer, username: str) -> Clerk:
        client = await self.stack.enter_async_context(httpx.AsyncClient(base_url=server.url))
        clerk = Clerk(client)
        assert (await clerk.login(username)).status_code == 303
        return clerk

    async def break_broker(self) -> None:
        """Redis: stopped. LISTEN/NOTIFY: every listening connection killed by the server."""
        if self.redis is not None:
            self.redis.stop()
            return
        admin = await asyncpg.connect(POSTGRES_URL)
        try:
            await admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = $1 AND datname = $2",
                PostgresBroker.APPLICATION_NAME,
                self.database_url.rsplit("/", 1)[1],
            )
        finally:
            await admin.close()

    def mend_broker(self) -> None:
        if self.redis is not None:
            self.redis.start()


@pytest.fixture(params=["redis", "postgres"])
async def cluster(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Cluster]:
    """Processes A and B on a demo database. They share sessions through one VAR_DIR, or through
    Redis for tests marked `sessions_in_redis` (which then cannot outlive a Redis outage)."""
    # Drafts enough for every change.
    async with throwaway_database(postgres_template(180)) as url, AsyncExitStack() as stack:
        with ExitStack() as servers:
            env = {"DATABASE_URL": url, "BROKER_URL": url, "EVENT_CATCH_UP_S": CATCH_UP_S}
            redis = None
            if request.param == "redis":
                redis = servers.enter_context(private_redis(tmp_path))
                env["BROKER_URL"] = redis.url
                if request.node.get_closest_marker("sessions_in_redis"):
                    env["STORE_URL"] = redis.url
            a, b = AppServer(tmp_path, env, "a"), AppServer(tmp_path, env, "b")
            for server in (a, b):
                server.start()
                servers.callback(server.stop)
            engine = db.use_database(url)
            await db.start(engine)
            stack.push_async_callback(db.stop, engine)
            yield Cluster(request.param, url, a, b, redis, stack)


async def drafts(count: int) -> list[int]:
    first = await a_purchase("supply", "draft")
    rows = await (
        Purchase.select(Purchase.id)
        .where(
            (Purchase.kind == "supply")
            & (Purchase.status == "draft")
            & (Purchase.company == first["company"])
        )
        .order_by(Purchase.id)
        .limit(count)
    )
    assert len(rows) == count
    return [row["id"] for row in rows]


async def change_and_watch(
    clerk: Clerk, purchase_id: int, status: str, stream: Stream
) -> tuple[int, float]:
    """Move a purchase through `clerk`; the event must reach `stream`. Returns its id and the
    delay in ms from the change's time (in the payload) to its arrival."""
    response = await move(clerk, "supply", purchase_id, status)
    assert response.status_code == 200
    frame = await stream.next_event()
    arrived = datetime.now(UTC)
    assert frame.event == "supply_purchase_status_changed"
    assert (frame.json["purchase_id"], frame.json["new_status"]) == (purchase_id, status)
    delay = arrived - datetime.fromisoformat(frame.json["changed_at"])
    return int(frame.id or 0), delay.total_seconds() * 1000


def logged(server: AppServer, words: str) -> Callable[[], bool]:
    return lambda: words in server.log()


@pytest.mark.sessions_in_redis
async def test_a_change_on_one_process_reaches_a_page_on_the_other_and_survives_a_kill(
    cluster: Cluster,
) -> None:
    clerk_a = await cluster.clerk(cluster.a, "admin")
    watcher = await cluster.clerk(cluster.b, "supervisor")
    ids = await drafts(MEASURED_CHANGES + 3)
    async with open_stream(watcher.client) as stream:
        seen = [
            await change_and_watch(clerk_a, purchase_id, "pending", stream)
            for purchase_id in ids[:MEASURED_CHANGES]
        ]
    last_seen, delays = seen[-1][0], [delay for _, delay in seen]
    # B heard of A's changes through the broker, not only through its catch-up timer.
    broker_b = (await watcher.client.get("/health")).json()["broker"]
    assert broker_b["connected"]
    assert broker_b["heard"] >= MEASURED_CHANGES
    TEST_REPORT.append(
        f"cross-process delivery ({cluster.broker} broker), change on A to page on B, "
        f"{len(delays)} changes: median {statistics.median(delays):.0f} ms, "
        f"worst {max(delays):.0f} ms (catch-up timer {CATCH_UP_S} s)"
    )

    cluster.b.kill()
    missed = ids[MEASURED_CHANGES:]
    for purchase_id in missed:
        assert (await move(clerk_a, "supply", purchase_id, "pending")).status_code == 200
    # The page reconnects to the survivor with its cookie and the last id it saw.
    moved = httpx.AsyncClient(base_url=cluster.a.url, cookies=watcher.client.cookies)
    async with moved, open_stream(moved, headers={"Last-Event-ID": str(last_seen)}) as resumed:
        frames = await resumed.events(len(missed))
        assert [int(f.id or 0) for f in frames] == list(
            range(last_seen + 1, last_seen + len(missed) + 1)
        )
        assert [f.json["purchase_id"] for f in frames] == missed
        # Nothing repeated: the next event is the next change, with the next id.
        await change_and_watch(clerk_a, ids[0], "confirmed", resumed)


async def test_a_broker_outage_loses_no_event_and_heals_by_itself(cluster: Cluster) -> None:
    """Events, then presence, cross the broker once it is back by itself."""
    clerk_a = await cluster.clerk(cluster.a, "admin")
    watcher = await cluster.clerk(cluster.b, "supervisor")
    ids = await drafts(4)
    async with open_stream(watcher.client) as stream:
        await cluster.break_broker()
        await eventually(logged(cluster.b, "unreachable"))
        # Changes during the outage reach B through its catch-up timer.
        for purchase_id in ids[:3]:
            await change_and_watch(clerk_a, purchase_id, "pending", stream)
        cluster.mend_broker()
        for server in (cluster.a, cluster.b):
            await eventually(logged(server, "reachable again"), wait_s=20)
        _, delay = await change_and_watch(clerk_a, ids[3], "pending", stream)
    TEST_REPORT.append(
        f"after a {cluster.broker} outage: the broker was back by itself in both processes; "
        f"next change delivered in {delay:.0f} ms"
    )
    # Presence crosses the healed broker too (on the same two processes: one cluster less).
    await presence_crosses_processes(cluster)


async def presence_crosses_processes(cluster: Cluster) -> None:
    """A clerk editing on process A appears to a clerk viewing the same purchase on B within
    JOIN_S, and disappears when their page closes. Across processes a page first shows who its
    own process knows of; the other process's word follows through the broker."""
    (purchase_id,) = await drafts(1)
    here = f"supply:{purchase_id}"
    viewer = await cluster.clerk(cluster.b, "supervisor")
    editor = await cluster.clerk(cluster.a, "admin")
    async with open_stream(viewer.client, f"/events?here={here}:viewing") as watching:
        await people_become(watching, [])
        async with open_stream(editor.client, f"/events?here={here}:editing") as editing:
            await people_become(editing, [{"name": "Supervisor", "mode": "viewing"}])
            await people_become(watching, [{"name": "Admin", "mode": "editing"}])
            # What keeping it costs the broker while both pages sit idle (reported, not asserted).
            before, began = cluster.b.health()["broker"], time.monotonic()
            await asyncio.sleep(BEAT_S + 1)  # one heartbeat at least
            after, elapsed = cluster.b.health()["broker"], time.monotonic() - began
            per_hour = 3600 / elapsed
            messages = (after["presence_shared"] - before["presence_shared"]) * per_hour
            size = (after["presence_shared_bytes"] - before["presence_shared_bytes"]) * per_hour
            TEST_REPORT.append(
                f"presence through {cluster.broker}, one purchase page open on a process: "
                f"{messages:.0f} broker messages and {size / 1024:.0f} KiB per hour from it"
            )
        await people_become(watching, [])


JOIN_S = 5.0  # the promise: join and leave appear within 5 s


async def people_become(stream: Stream, expected: list[dict[str, str]]) -> None:
    """Presence frames on `stream` until one lists `expected`; fails after JOIN_S."""
    deadline = time.monotonic() + JOIN_S
    seen: list[object] = []
    while (left := deadline - time.monotonic()) > 0:
        try:
            frame = await stream.next_event(left)
        except TimeoutError:
            break
        if frame.event == "presence":
            seen.append(frame.json["people"])
            if seen[-1] == expected:
                return
    raise AssertionError(f"presence never showed {expected} within {JOIN_S} s; saw {seen}")
