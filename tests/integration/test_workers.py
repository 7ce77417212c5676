"""`purchasing serve --workers N`: N processes on one port, told of each other's changes by the
broker; refused with the in-process broker."""

from __future__ import annotations

import os
import re
import signal
import subprocess
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path

import httpx
import pytest

from tests.helpers.app import Clerk
from tests.helpers.demo import a_purchase, move
from tests.helpers.scrape import scrape
from tests.helpers.servers import PURCHASING, AppServer, served, shared_redis
from tests.helpers.sse import eventually, open_stream

WORKERS = 3
PAGES = 9
STARTED = r"Started server process \[(\d+)\]"


def test_several_workers_with_the_in_process_broker_are_refused(tmp_path: Path) -> None:
    result = subprocess.run(
        [*PURCHASING, "serve", "--workers", "2"],
        env={**os.environ, "VAR_DIR": str(tmp_path), "BROKER_URL": "memory://"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "2 workers need a broker" in result.stderr
    assert "BROKER_URL" in result.stderr


@pytest.fixture
async def workers(tmp_path: Path, database: str) -> AsyncIterator[AppServer]:
    """`serve --workers 3` on this test's demo database, the machine's Redis as broker."""
    server = AppServer(
        tmp_path,
        {"DATABASE_URL": database, "BROKER_URL": shared_redis(), "EVENT_CATCH_UP_S": "2"},
    )
    async with served(server, "--workers", str(WORKERS)) as running:
        # It answers once one worker has started; the others may still be starting.
        await eventually(lambda: len(worker_pids(running)) == WORKERS, 30)
        yield running


async def test_every_page_hears_every_change_whichever_worker_holds_it(
    workers: AppServer,
) -> None:
    async with AsyncExitStack() as stack:
        pages = []
        for _ in range(PAGES):
            client = await stack.enter_async_context(httpx.AsyncClient(base_url=workers.url))
            viewer = Clerk(client)
            assert (await viewer.login("supervisor")).status_code == 303
            pages.append(await stack.enter_async_context(open_stream(client)))
        changer = Clerk(await stack.enter_async_context(httpx.AsyncClient(base_url=workers.url)))
        await changer.login("admin")
        purchase = await a_purchase("supply", "draft")
        for status in ("pending", "confirmed"):
            assert (await move(changer, "supply", purchase["id"], status)).status_code == 200
        for page in pages:
            frames = await page.events(2)
            assert [f.json["new_status"] for f in frames] == ["pending", "confirmed"]
        # Whichever worker answers /metrics, it sums them all: every open page, every delivery.
        for _ in range(WORKERS * 2):
            metrics = await scrape(changer.client)
            assert metrics.value("purchasing_streams_open") == PAGES
            assert metrics.value("purchasing_events_delivered_total") == 2 * PAGES
            ok = metrics.value("purchasing_status_changes_total", kind="supply", outcome="ok")
            assert ok == 2
    assert len(set(re.findall(STARTED, workers.log()))) == WORKERS


async def test_a_killed_worker_leaves_the_metrics_sums(workers: AppServer) -> None:
    """A worker killed outright cannot say it is gone; the supervisor says it for it."""
    async with AsyncExitStack() as stack:
        pages = []
        for _ in range(PAGES):
            client = await stack.enter_async_context(httpx.AsyncClient(base_url=workers.url))
            await Clerk(client).login("supervisor")
            pages.append(await stack.enter_async_context(open_stream(client)))
        for page in pages:
            await page.next()  # open
        metrics_client = await stack.enter_async_context(httpx.AsyncClient(base_url=workers.url))
        assert (await scrape(metrics_client)).gauge("purchasing_streams_open") == PAGES
        # Kill workers one by one until one that held streams is gone (each is restarted).
        for pid in worker_pids(workers):
            os.kill(pid, signal.SIGKILL)
            await eventually(lambda pid=pid: f"Child process [{pid}] died" in workers.log(), 30)
            await eventually(lambda: len(worker_pids(workers)) == WORKERS, 30)
            if any(page.ended.is_set() for page in pages):
                break
        open_pages = sum(not page.ended.is_set() for page in pages)
        assert open_pages < PAGES

        async def sums_open_pages() -> bool:
            return (await scrape(metrics_client)).gauge("purchasing_streams_open") == open_pages

        await eventually(sums_open_pages, 30)


def worker_pids(server: AppServer) -> list[int]:
    """The workers running now: started, and not reported dead since."""
    log = server.log()
    started = [int(pid) for pid in re.findall(STARTED, log)]
    return [pid for pid in started if f"Child process [{pid}] died" not in log]


async def test_sigterm_ends_every_worker_and_its_streams(workers: AppServer) -> None:
    async with httpx.AsyncClient(base_url=workers.url) as client:
        await Clerk(client).login("supervisor")
        async with open_stream(client) as page:
            await page.next()  # the stream is open
            assert workers.process is not None
            workers.process.send_signal(signal.SIGTERM)
            assert workers.process.wait(timeout=20) == 0
            await page.ended.wait()
