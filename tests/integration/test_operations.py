"""What whoever runs the app watches: /ready, /health, /metrics, and the errors users report."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest

from purchasing.live import outbox
from purchasing.services.demo_data import OTHER
from purchasing.tables import Company
from tests.helpers.app import Clerk, LiveApp, make_app
from tests.helpers.demo import a_purchase
from tests.helpers.scrape import scrape
from tests.helpers.sse import eventually, open_stream

STATUS_ROUTE = "/purchases/{kind}/{purchase_id}/status"
TOKEN = "a-scrape-token-of-some-length"


async def test_ready_and_health_answer_without_a_session(anonymous: Clerk) -> None:
    ready = await anonymous.get("/ready")
    assert ready.status_code == 200
    assert ready.json() == {
        "status": "ready",
        "checks": {"database": "ok", "broker": "ok", "outbox_reader": "ok", "lag": "ok"},
        "lag": {"events": 0, "seconds": 0.0},
    }
    health = await anonymous.get("/health")
    assert health.status_code == 200
    assert health.json()["status"] == "ok"
    assert "set-cookie" not in ready.headers
    assert "set-cookie" not in health.headers


async def test_a_status_change_moves_its_metrics(admin: Clerk, client: httpx.AsyncClient) -> None:
    p = await a_purchase("feed", "confirmed")
    before = await scrape(client)
    async with open_stream(client, f"/events?after={await outbox.newest_id()}") as stream:
        await stream.next()  # the retry frame: the stream is open
        response = await admin.post(
            f"/purchases/feed/{p['id']}/status",
            {"status": "in_transit", "version": p["version"]},
            htmx=True,
        )
        assert response.status_code == 200
        (event,) = await stream.events(1)
        assert event.event == "feed_purchase_status_changed"
        after = await scrape(client)

    def moved(name: str, **labels: str) -> float:
        return after.value(name, **labels) - before.value(name, **labels)

    assert moved("purchasing_status_changes_total", kind="feed", outcome="ok") == 1
    assert moved("purchasing_events_written_total", type="feed_purchase_status_changed") == 1
    assert moved("purchasing_events_delivered_total") == 1
    assert moved("purchasing_delivery_delay_seconds_count") == 1
    assert moved("purchasing_streams_opened_total") == 1
    assert moved("purchasing_streams_open") == 1
    assert moved("purchasing_streams_open_for_kind", kind="feed") == 1
    assert after.gauge("purchasing_outbox_lag_events") == 0
    post = {"method": "POST", "path": STATUS_ROUTE, "status_code": "200"}
    assert moved("purchasing_http_requests_total", **post) == 1
    # The stream has closed: it no longer counts as open.
    await eventually(
        lambda: scrape_value(
            client, "purchasing_streams_open", before.value("purchasing_streams_open")
        )
    )


async def scrape_value(client: httpx.AsyncClient, name: str, expected: float) -> bool:
    return (await scrape(client)).value(name) == expected


async def test_refused_moves_are_counted_by_outcome(
    admin: Clerk, client: httpx.AsyncClient
) -> None:
    draft = await a_purchase("supply", "draft")
    pending = await a_purchase("supply", "pending")
    confirmed = await a_purchase("feed", "confirmed")
    before = await scrape(client)

    async def move(kind: str, p: dict[str, Any], status: str, version: int) -> int:
        url = f"/purchases/{kind}/{p['id']}/status"
        return int(
            (await admin.post(url, {"status": status, "version": version}, htmx=True)).status_code
        )

    assert await move("supply", draft, "in_coop", draft["version"]) == 422
    assert await move("supply", pending, "confirmed", pending["version"] - 1) == 409
    assert await move("feed", confirmed, "in_transit", confirmed["version"]) == 200
    assert await move("feed", confirmed, "in_transit", confirmed["version"]) == 200  # a retry
    after = await scrape(client)

    def moved(name: str, **labels: str) -> float:
        return after.value(name, **labels) - before.value(name, **labels)

    assert moved("purchasing_status_changes_total", kind="supply", outcome="rule_error") == 1
    assert moved("purchasing_status_changes_total", kind="supply", outcome="conflict") == 1
    assert moved("purchasing_status_changes_total", kind="feed", outcome="ok") == 1
    assert moved("purchasing_status_changes_total", kind="feed", outcome="duplicate") == 1
    assert moved("purchasing_duplicates_suppressed_total") == 1
    assert moved("purchasing_events_written_total") == 1
    conflict = {"method": "POST", "path": STATUS_ROUTE, "status_code": "409"}
    assert moved("purchasing_http_requests_total", **conflict) == 1


@pytest.mark.parametrize("tuned", [{"metrics_token": TOKEN}], indirect=True)
async def test_metrics_from_another_machine_need_the_token(tuned: LiveApp) -> None:
    async with remote_client(tuned) as remote:
        assert (await remote.get("/metrics")).status_code == 401
        wrong = await remote.get("/metrics", headers={"Authorization": "Bearer not-the-token"})
        assert wrong.status_code == 401
        assert wrong.headers["www-authenticate"] == "Bearer"
        good = await remote.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        assert good.status_code == 200
        assert "purchasing_streams_open" in good.text
    async with tuned.client() as local:  # this machine needs none
        await scrape(local)


async def test_requests_refused_before_their_route_count_too(
    anonymous: Clerk, client: httpx.AsyncClient
) -> None:
    before = await scrape(client)
    assert (await anonymous.get("/purchases/feed/")).status_code == 303  # to the login page
    assert (await anonymous.get("/events")).status_code == 401
    after = await scrape(client)
    index = {"method": "GET", "path": "/purchases/{kind}", "status_code": "303"}
    events = {"method": "GET", "path": "/events", "status_code": "401"}
    for labels in (index, events):
        moved = after.value("purchasing_http_requests_total", **labels) - before.value(
            "purchasing_http_requests_total", **labels
        )
        assert moved == 1, labels


async def test_without_a_token_metrics_stay_on_this_machine(
    live: LiveApp, client: httpx.AsyncClient
) -> None:
    async with remote_client(live) as remote:
        refused = await remote.get("/metrics", headers={"Authorization": "Bearer anything"})
    assert refused.status_code == 403
    assert "METRICS_TOKEN is not set" in refused.text
    # Through a proxy on this machine, or claiming to be local in a forwarded header: refused too.
    for forwarded in ({"X-Forwarded-For": "127.0.0.1"}, {"Forwarded": "for=127.0.0.1"}):
        assert (await client.get("/metrics", headers=forwarded)).status_code == 403


@contextlib.asynccontextmanager
async def remote_client(served: LiveApp) -> AsyncIterator[httpx.AsyncClient]:
    """A client the app sees coming from another machine (the running app, called in-process)."""
    transport = httpx.ASGITransport(app=served.app, client=("203.0.113.7", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://app.example") as remote:
        yield remote


class TcpProxy:
    """Forwards a local port to PostgreSQL until `cut()`: the database becomes unreachable, its
    open connections broken and new ones refused; `restore()` brings it back on the same port."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = 0
        self.server: asyncio.Server | None = None
        self.pipes: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)
        self.port = self.server.sockets[0].getsockname()[1]

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(*self.target)
        self.pipes |= {writer, up_writer}
        await asyncio.gather(
            self._pump(reader, up_writer), self._pump(up_reader, writer), return_exceptions=True
        )

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        finally:
            writer.close()
            self.pipes.discard(writer)

    async def cut(self) -> None:
        assert self.server is not None
        self.server.close()
        for writer in list(self.pipes):
            writer.transport.abort()
        await self.server.wait_closed()

    async def restore(self) -> None:
        await self.start()


@pytest.mark.parametrize("databases", ["postgres"], indirect=True)
async def test_ready_fails_while_the_database_is_unreachable(tmp_path: Path, database: str) -> None:
    parts = urlsplit(database)
    proxy = TcpProxy((parts.hostname or "127.0.0.1", parts.port or 5432))
    await proxy.start()
    through_proxy = urlunsplit(parts._replace(netloc=f"{parts.username}@127.0.0.1:{proxy.port}"))
    async with LiveApp(make_app(tmp_path, through_proxy)) as served, served.client() as http:
        assert (await http.get("/ready")).status_code == 200
        await proxy.cut()
        down = await http.get("/ready")
        assert down.status_code == 503
        body = down.json()
        assert body["status"] == "not ready"
        assert body["checks"]["database"].startswith("unreachable")
        assert str(proxy.port) not in down.text  # where the database is stays private
        assert (await http.get("/health")).status_code == 200  # alive, just not ready
        await proxy.restore()
        await eventually(lambda: ready_now(http), wait_s=15)


async def ready_now(http: httpx.AsyncClient) -> bool:
    return (await http.get("/ready")).status_code == 200


@pytest.fixture
def broken_tables(monkeypatch: pytest.MonkeyPatch) -> None:
    """Listing purchases fails as an unexpected bug would."""

    async def broken(*args: object) -> None:
        raise RuntimeError("the listing broke")

    monkeypatch.setattr("purchasing.web.purchases.list_purchases", broken)


@pytest.mark.usefixtures("broken_tables")
async def test_an_unexpected_error_gives_a_page_with_the_reference_the_log_has(
    admin: Clerk, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="purchasing.errors"):
        page = await admin.get("/purchases/supply/")
    assert page.status_code == 500
    reference = page.headers["x-request-id"]
    assert f"quote reference {reference}" in page.text
    assert page.text.lstrip().startswith("<!doctype html>")
    assert "the listing broke" not in page.text  # the details are for the log only
    (record,) = caplog.records
    assert record.reference == reference
    assert record.exc_info is not None
    assert "the listing broke" in logging.Formatter().formatException(record.exc_info)


@pytest.mark.usefixtures("broken_tables")
async def test_an_htmx_request_gets_the_error_aimed_at_the_banner(admin: Clerk) -> None:
    table = await admin.get("/purchases/supply/", htmx=True, target="purchase-table")
    assert table.status_code == 500
    assert table.headers["hx-retarget"] == "#error-banner"
    assert table.headers["hx-reswap"] == "innerHTML"
    assert "<html" not in table.text
    assert 'data-testid="error"' in table.text
    assert f"quote reference {table.headers['x-request-id']}" in table.text


@pytest.mark.parametrize(("username", "status"), [("supervisor", 403), ("manager", 403)])
async def test_the_monitor_is_for_administrators_and_superadmins(
    client: httpx.AsyncClient, username: str, status: int
) -> None:
    assert (await client.get("/admin/monitor")).status_code == 303  # to the login page first
    clerk = Clerk(client)
    await clerk.login(username)
    refused = await clerk.get("/admin/monitor")
    assert refused.status_code == status
    assert "The monitor is for Administrators and SuperAdmins." in refused.text
    assert (await clerk.get("/admin/monitor", htmx=True)).status_code == status
    assert 'data-testid="nav-monitor"' not in (await clerk.get("/purchases/supply/")).text


async def test_an_administrator_monitors_only_their_own_company(
    live: LiveApp, admin: Clerk, client: httpx.AsyncClient
) -> None:
    ours = await a_purchase("supply", "draft")
    async with live.client() as other_client, live.client() as super_client:
        other = Clerk(other_client)
        await other.login("admin2")  # the other company's Administrator
        superadmin = Clerk(super_client)
        await superadmin.login("superadmin")
        theirs = await a_purchase("supply", "draft", company=await other_company())
        async with open_stream(client):  # one page of our company open
            await eventually(lambda: len(live.app.state.hub.subscribers) == 1)
            for clerk, p in ((admin, ours), (other, theirs)):
                moved = await clerk.post(
                    f"/purchases/supply/{p['id']}/status",
                    {"status": "pending", "version": p["version"]},
                    htmx=True,
                )
                assert moved.status_code == 200
            seen_by_other = (await other.get("/admin/monitor", htmx=True)).text
            seen_by_admin = (await admin.get("/admin/monitor")).text
            seen_by_super = (await superadmin.get("/admin/monitor", htmx=True)).text
    assert 'data-testid="nav-monitor"' in seen_by_admin
    assert ours["invoice_number"] in seen_by_admin
    assert theirs["invoice_number"] not in seen_by_admin
    assert theirs["invoice_number"] in seen_by_other
    assert ours["invoice_number"] not in seen_by_other
    # Their figures are their company's: its one event, none of our streams, no counters.
    assert figures(seen_by_admin) == {"streams": 1, "events": 1, "counters": False}
    assert figures(seen_by_other) == {"streams": 0, "events": 1, "counters": False}
    assert figures(seen_by_super) == {"streams": 1, "events": 2, "counters": True}


def figures(panel: str) -> dict[str, Any]:
    streams = re.search(r'data-testid="streams-open" data-value="(\d+)"', panel)
    events = re.search(r'data-testid="events-this-minute"[^>]*data-window="(\d+)"', panel, re.S)
    assert streams is not None
    assert events is not None
    return {
        "streams": int(streams[1]),
        "events": int(events[1]),
        "counters": 'data-testid="counter-delivered"' in panel,
    }


async def other_company() -> int:
    row = await Company.select(Company.id).where(Company.name == OTHER.name).first()
    assert row is not None
    return int(row["id"])


@pytest.mark.parametrize("tuned", [{"metrics_token": TOKEN}], indirect=True)
async def test_health_tells_only_this_machine_or_the_token_holder_its_figures(
    tuned: LiveApp,
) -> None:
    async with tuned.client() as client:
        here = (await client.get("/health")).json()
        assert here["status"] == "ok"
        assert {"streams", "last_event_id", "hub", "broker"} <= set(here)
        # Through a proxy, the stranger's address is another machine's: alive, and no more.
        stranger = await client.get("/health", headers={"X-Forwarded-For": "203.0.113.9"})
        assert stranger.status_code == 200
        assert stranger.json() == {"status": "ok"}
        assert stranger.headers["cache-control"] == "no-store"
        operator = await client.get(
            "/health",
            headers={"X-Forwarded-For": "203.0.113.9", "Authorization": f"Bearer {TOKEN}"},
        )
        assert "last_event_id" in operator.json()


async def test_a_failing_commit_listener_is_logged_and_counted_not_reported_to_the_clerk(
    live: LiveApp, admin: Clerk, client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    p = await a_purchase("supply", "draft")
    before = await scrape(client)

    def broken(event_id: int, row: object) -> None:
        raise RuntimeError("a transport nobody expected")

    unlisten = live.app.state.changes.on_commit(broken)
    try:
        with caplog.at_level("ERROR", logger="purchasing.live"):
            response = await admin.post(
                f"/purchases/supply/{p['id']}/status",
                {"status": "pending", "version": p["version"]},
                htmx=True,
            )
    finally:
        unlisten()
    assert response.status_code == 200  # the change committed: the clerk is told it did
    assert "is now Pending" in response.text
    after = await scrape(client)
    errors = "purchasing_commit_listener_errors_total"
    assert after.value(errors) - before.value(errors) == 1
    assert any("a listener failed after event" in r.getMessage() for r in caplog.records)
