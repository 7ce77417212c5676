"""Two app processes behind no load balancer at all: clerk 1's browser talks to process A, clerk
2's to process B, both on one PostgreSQL with Redis waking the other process."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
from playwright.sync_api import Browser, Page, expect

from e2e.pages import open_as, watch
from purchasing.services.demo_data import MAIN
from tests.helpers.seeded import postgres_template
from tests.helpers.servers import AppServer, postgres_and_redis, run_async

FIRST_PAGE = "?per_page=50&sort=invoice&dir=asc"


class Cluster:
    def __init__(self, directory: Path, database_url: str, broker_url: str) -> None:
        env = {"DATABASE_URL": database_url, "BROKER_URL": broker_url}
        self.database_url = database_url
        self.a = AppServer(directory, env, "a")
        self.b = AppServer(directory, env, "b")

    def drafts(self, count: int) -> list[str]:
        """Draft supply invoices of the main company on the first page of FIRST_PAGE."""

        async def query() -> list[str]:
            connection = await asyncpg.connect(self.database_url)
            try:
                rows = await connection.fetch(
                    "SELECT p.invoice_number, p.status FROM purchase p JOIN company c "
                    "ON c.id = p.company WHERE p.kind = 'supply' AND c.name = $1 "
                    "ORDER BY p.invoice_number LIMIT 50",
                    MAIN.name,
                )
            finally:
                await connection.close()
            return [row["invoice_number"] for row in rows if row["status"] == "draft"][:count]

        return run_async(query())


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    directory = tmp_path_factory.mktemp("cluster")
    with postgres_and_redis(directory, postgres_template(MAIN.purchases_per_kind)) as (
        url,
        redis_url,
    ):
        made = Cluster(directory, url, redis_url)
        made.a.start()
        made.b.start()
        try:
            yield made
        finally:
            made.a.stop()
            made.b.stop()


@pytest.fixture
def clerks(browser: Browser, cluster: Cluster) -> Iterator[tuple[Page, Page]]:
    """Clerk 1 (supervisor) on process A, clerk 2 (manager) on process B."""
    one = open_as(browser, cluster.a.url, "supervisor")
    two = open_as(browser, cluster.b.url, "manager")
    yield one, two
    one.context.close()
    two.context.close()


def test_live_updates_flow_both_ways_between_processes(
    clerks: tuple[Page, Page], cluster: Cluster
) -> None:
    one, two = clerks
    first, second = cluster.drafts(2)
    index_one, index_two = watch(one, "supply", FIRST_PAGE), watch(two, "supply", FIRST_PAGE)

    index_one.change_status(first, "Pending")
    index_two.expect_status(first, "pending")

    index_two.change_status(second, "Pending")
    index_one.expect_status(second, "pending")
    for page, invoice in ((two, first), (one, second)):
        toast = page.get_by_test_id("toast")
        expect(toast).to_have_count(1)
        expect(toast).to_contain_text(invoice)
