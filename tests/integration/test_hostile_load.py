"""Hostile load on a served process, from this machine only, with bounded counts and time: what
a flood of each kind gets, and that everyone else's pages stay live meanwhile. Timing figures
are printed after the run (never asserted); what a user would notice is asserted."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from bench.hostile import EMPTY_FIELDS, huge_forms, junk_cookies, login_burst, probe_health
from bench.stats import percentile
from purchasing.domain.roles import Role
from purchasing.live.fanout import TooManyStreams
from purchasing.services.demo_data import OTHER
from purchasing.services.users import set_active, update_user
from purchasing.settings import Settings
from purchasing.tables import Farm, Purchase
from tests.helpers.app import Clerk, LiveApp
from tests.helpers.databases import SQLITE_ONLY
from tests.helpers.demo import a_purchase, move
from tests.helpers.report import TEST_REPORT
from tests.helpers.servers import AppServer, private_redis, served
from tests.helpers.sse import Stream, eventually, open_stream

pytestmark = SQLITE_ONLY
TAB = re.compile(r'data-tab-id="([^"]+)" data-echo="([^"]+)"')
BURST = 100
LIMIT_PER_IP = 20  # the default LOGIN_FAILURES_PER_IP
JUNK = 3_000  # requests with made-up session cookies: 500 to each kind of target


@pytest.fixture
async def server(tmp_path: Path, database: str) -> AsyncIterator[AppServer]:
    """`purchasing serve` with the default settings (the real password hashing among them), on
    this test's demo database."""
    env = {"DATABASE_URL": database, "PASSWORD_PROFILE": Settings.password_profile}
    async with served(AppServer(tmp_path, env)) as running:
        yield running


async def changes_seen(
    clerk: Clerk, stream: Stream, purchase_id: int, until: asyncio.Event
) -> list[float]:
    """Move one purchase back and forth until `until` is set (at least once); each move's time
    from sending the POST to its event on `stream`, in seconds."""
    times = []
    while not times or not until.is_set():
        current = await Purchase.select(Purchase.status).where(Purchase.id == purchase_id).first()
        target = "draft" if current["status"] == "pending" else "pending"
        started = time.perf_counter()
        assert (await move(clerk, "supply", purchase_id, target)).status_code == 200
        frame = await stream.next_event(wait_s=30)
        assert (frame.json["purchase_id"], frame.json["new_status"]) == (purchase_id, target)
        times.append(time.perf_counter() - started)
    return times


def p99_ms(times: list[float]) -> str:
    return f"{percentile(sorted(times), 99) * 1000:.0f} ms"


async def test_a_login_burst_is_evaluated_only_up_to_the_limit_while_streams_stay_live(
    server: AppServer,
) -> None:
    purchase = await a_purchase("supply", "draft")
    async with server_client(server) as viewer_http, server_client(server) as changer_http:
        viewer, changer = Clerk(viewer_http), Clerk(changer_http)
        assert (await viewer.login("supervisor")).status_code == 303
        assert (await changer.login("manager")).status_code == 303
        async with open_stream(viewer_http) as stream:
            await stream.next()  # retry: the stream is open
            quiet = asyncio.Event()
            asyncio.get_running_loop().call_later(1.0, quiet.set)
            quiet_health, quiet_changes = await asyncio.gather(
                probe_health(server.port, quiet),
                changes_seen(changer, stream, purchase["id"], quiet),
            )
            done = asyncio.Event()
            burst = asyncio.create_task(login_burst(server.port, BURST))
            burst.add_done_callback(lambda _: done.set())
            started = time.perf_counter()
            busy_health, busy_changes = await asyncio.gather(
                probe_health(server.port, done),
                changes_seen(changer, stream, purchase["id"], done),
            )
            statuses = await burst
            burst_s = time.perf_counter() - started
    evaluated, refused = statuses[401], statuses[429]
    assert evaluated + refused == BURST, statuses
    assert evaluated <= LIMIT_PER_IP
    TEST_REPORT.append(
        f"login burst: {BURST} failed logins at once from one address: {evaluated} evaluated, "
        f"{refused} refused with 429, in {burst_s:.1f} s; GET /health p99 {p99_ms(busy_health)} "
        f"during the burst ({len(busy_health)} probes), {p99_ms(quiet_health)} without; "
        f"change to event on an open stream p99 {p99_ms(busy_changes)} during "
        f"({len(busy_changes)} changes, every one delivered), {p99_ms(quiet_changes)} without"
    )


async def test_huge_forms_are_refused_unread_while_streams_stay_live(server: AppServer) -> None:
    """9.8 MB of empty fields, posted to the login, the language switch and a signed-in form at
    once, are refused from their Content-Length: the server reads none of it, keeps its memory,
    and an open page keeps getting its events."""
    purchase = await a_purchase("supply", "draft")
    async with server_client(server) as viewer_http, server_client(server) as changer_http:
        viewer, changer = Clerk(viewer_http), Clerk(changer_http)
        assert (await viewer.login("supervisor")).status_code == 303
        assert (await changer.login("manager")).status_code == 303
        cookies = "; ".join(f"{name}={value}" for name, value in changer_http.cookies.items())
        signed_in = {"cookie": cookies, "x-csrftoken": changer_http.cookies["csrftoken"]}
        targets = [("/login", {}), ("/language", {}), ("/purchases/supply/new", signed_in)]
        memory_before = resident_mb(server)
        async with open_stream(viewer_http) as stream:
            await stream.next()  # retry: the stream is open
            quiet = asyncio.Event()
            asyncio.get_running_loop().call_later(1.0, quiet.set)
            quiet_changes = await changes_seen(changer, stream, purchase["id"], quiet)
            done = asyncio.Event()
            flood = asyncio.create_task(huge_forms(server.port, targets))
            flood.add_done_callback(lambda _: done.set())
            busy_changes = await changes_seen(changer, stream, purchase["id"], done)
            statuses = await flood
        memory_after = resident_mb(server)
    assert statuses == {(path, 413): 3 for path, _ in targets}
    TEST_REPORT.append(
        f"huge forms: {sum(statuses.values())} posts of {len(EMPTY_FIELDS) / 1e6:.1f} MB at once "
        f"(login, language, a signed-in form), every one 413 unread; change to event on an open "
        f"stream p99 {p99_ms(busy_changes)} during (changes: {len(busy_changes)}, every one "
        f"delivered), {p99_ms(quiet_changes)} without; server memory {memory_before:.0f} MB "
        f"before, {memory_after:.0f} MB after"
    )


def resident_mb(server: AppServer) -> float:
    status = Path(f"/proc/{server.pid}/status").read_text()
    kilobytes = next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS"))
    return int(kilobytes) / 1024


def server_client(server: AppServer) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=server.url, timeout=30)


def session_files(server: AppServer) -> int:
    folder = server.directory / "sessions"
    return sum(1 for _ in folder.iterdir()) if folder.exists() else 0


async def test_junk_session_cookies_create_no_session(server: AppServer) -> None:
    before = session_files(server)
    started = time.perf_counter()
    statuses = await junk_cookies(server.port, JUNK)
    took = time.perf_counter() - started
    assert sum(statuses.values()) == JUNK
    assert statuses[500] == 0
    assert session_files(server) == before == 0
    TEST_REPORT.append(
        f"junk session cookies: {JUNK:,} requests in {took:.1f} s created "
        f"{session_files(server) - before} session files ({dict(sorted(statuses.items()))})"
    )


async def test_junk_session_cookies_create_no_session_in_redis(
    tmp_path: Path, database: str
) -> None:
    with private_redis(tmp_path) as redis_server:
        env = {"DATABASE_URL": database, "STORE_URL": redis_server.url}
        async with served(AppServer(tmp_path, env)) as running:
            statuses = await junk_cookies(running.port, 2_000)
            keys = redis.Redis(port=redis_server.port).keys("purchasing_sessions:*")
            assert sum(statuses.values()) == 2_000
            assert statuses[500] == 0
            assert keys == []
            # A real login is kept, and with its expiry: Redis forgets it by itself.
            async with server_client(running) as http:
                assert (await Clerk(http).login("supervisor")).status_code == 303
            kept = redis.Redis(port=redis_server.port).keys("purchasing_sessions:*")
            assert len(kept) == 1
            assert 0 < redis.Redis(port=redis_server.port).ttl(kept[0]) <= 480 * 60
    TEST_REPORT.append(f"junk session cookies: 2,000 requests created {len(keys)} Redis sessions")


class Streams:
    """Streams opened all at once by one client, held open until `close`."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.answers: list[tuple[int, str, str]] = []  # status, Retry-After, body if refused
        self.hold = asyncio.Event()
        self.tasks: list[asyncio.Task[None]] = []

    async def open(self, count: int) -> list[tuple[int, str, str]]:
        answered = len(self.answers) + count
        self.tasks += [asyncio.create_task(self._one()) for _ in range(count)]
        await eventually(lambda: len(self.answers) >= answered)
        return self.answers[answered - count :]

    async def _one(self) -> None:
        async with self.client.stream("GET", "/events", timeout=None) as response:
            refused = response.status_code != 200
            body = (await response.aread()).decode() if refused else ""
            self.answers.append(
                (response.status_code, response.headers.get("retry-after", ""), body)
            )
            if not refused:
                await self.hold.wait()

    async def close(self) -> None:
        self.hold.set()
        await asyncio.gather(*self.tasks)


def many_streams_client(live: LiveApp) -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=0)
    return httpx.AsyncClient(base_url=live.url, timeout=10, limits=limits)


async def test_one_browser_gets_at_most_twenty_streams_whatever_it_asks_at_once(
    live: LiveApp,
) -> None:
    async with many_streams_client(live) as http:
        assert (await Clerk(http).login("supervisor")).status_code == 303
        streams = Streams(http)
        answers = await streams.open(25)
        codes = [status for status, _, _ in answers]
        refusals = {(status, retry, body) for status, retry, body in answers if status != 200}
        assert codes.count(200) == 20
        assert refusals == {(429, "30", TooManyStreams.per_session(20).args[0])}
        await streams.close()
        await eventually(lambda: live.app.state.hub.subscribers == set())
        assert [status for status, _, _ in await Streams(http).open(1)] == [200]
    TEST_REPORT.append(
        f"stream cap: 25 streams asked at once by one session: {codes.count(200)} opened, "
        f"{codes.count(429)} refused with 429"
    )


@pytest.mark.parametrize(
    "tuned", [{"streams_per_session": 3, "streams_per_user": 5}], indirect=True
)
async def test_one_user_gets_at_most_their_cap_across_sessions(tuned: LiveApp) -> None:
    async with many_streams_client(tuned) as one, many_streams_client(tuned) as two:
        for http in (one, two):
            assert (await Clerk(http).login("supervisor")).status_code == 303
        first, second = Streams(one), Streams(two)
        assert [a[0] for a in await first.open(4)].count(200) == 3  # the session's cap
        answers = await second.open(3)
        assert [a[0] for a in answers].count(200) == 2  # the user's cap: 5 in all
        assert TooManyStreams.per_user(5).args[0] in {body for _, _, body in answers}
        await first.close()
        hub = tuned.app.state.hub
        await eventually(lambda: len(hub.subscribers) == 2)  # the server saw them go
        assert [a[0] for a in await second.open(1)] == [200]  # places given back
        await second.close()


async def farm(code: str) -> int:
    row = await Farm.select(Farm.id).where(Farm.code == code).first()
    assert row is not None
    return int(row["id"])


async def draft_on(code: str) -> dict[str, Any]:
    company = await Farm.select(Farm.company).where(Farm.code == code).first()
    assert company is not None
    return await a_purchase("supply", "draft", farm=await farm(code), company=company["company"])


PERMISSION_CHANGES = {
    # who, the change, a farm they see before and no longer after, one they see after
    "farm taken away": ("operator", {"farm_codes": ("F02",)}, "F01", "F02"),
    "role changed": ("manager", {"role": Role.OPERATOR, "farm_codes": ("F03",)}, "F01", "F03"),
    "moved to another company": (
        "operator",
        {"company_name": OTHER.name, "farm_codes": ("G01",)},
        "F01",
        "G01",
    ),
}


@pytest.mark.parametrize("tuned", [{"stream_recheck_s": 0.2}], indirect=True)
@pytest.mark.parametrize("change", PERMISSION_CHANGES)
async def test_an_open_stream_follows_a_change_of_permissions(tuned: LiveApp, change: str) -> None:
    username, update, lost, kept = PERMISSION_CHANGES[change]
    gone, still = await draft_on(lost), await draft_on(kept)
    async with tuned.client() as admin_http, tuned.client() as viewer_http:
        superadmin, viewer = Clerk(admin_http), Clerk(viewer_http)
        assert (await superadmin.login("superadmin")).status_code == 303
        assert (await viewer.login(username)).status_code == 303
        async with open_stream(viewer_http) as stream:
            await stream.next()  # retry: the stream is open
            assert (await move(superadmin, "supply", gone["id"], "pending")).status_code == 200
            before = await stream.next_event()
            assert before.json["purchase_id"] == gone["id"]  # seen while they may see it
            changed_at = time.perf_counter()
            await update_user(username, **update)
            resync = await stream.next_event()
            followed_s = time.perf_counter() - changed_at
            assert (resync.event, resync.json["reason"]) == ("resync", "your permissions changed")
            assert (await move(superadmin, "supply", gone["id"], "draft")).status_code == 200
            assert (await move(superadmin, "supply", still["id"], "pending")).status_code == 200
            assert (await stream.next_event()).json["purchase_id"] == still["id"]
        # Replayed after a reconnect from before the change: only what they may see now.
        assert before.id is not None
        async with open_stream(viewer_http, headers={"Last-Event-ID": before.id}) as replay:
            assert (await replay.next_event()).json["purchase_id"] == still["id"]
            assert (await move(superadmin, "supply", still["id"], "draft")).status_code == 200
            assert (await replay.next_event()).json["new_status"] == "draft"  # nothing between
        table = (await viewer.get("/purchases/supply?per_page=50", htmx=True)).text
        assert gone["invoice_number"] not in table
    TEST_REPORT.append(
        f"permission change ({change}): the open stream followed in {followed_s * 1000:.0f} ms "
        "(STREAM_RECHECK_S 0.2)"
    )


@pytest.mark.parametrize("tuned", [{"stream_recheck_s": 0.2}], indirect=True)
async def test_a_deactivated_users_open_stream_ends(tuned: LiveApp) -> None:
    async with tuned.client() as viewer_http:
        assert (await Clerk(viewer_http).login("operator")).status_code == 303
        async with open_stream(viewer_http) as stream:
            await stream.next()
            await set_active("operator", False)
            await asyncio.wait_for(stream.ended.wait(), 10)
        assert (await viewer_http.get("/events")).status_code == 401


async def move_from_tab(
    clerk: Clerk, purchase: dict[str, Any], status: str, tab_id: str
) -> httpx.Response:
    form = {"status": status, "version": purchase["version"]}
    url = f"/purchases/supply/{purchase['id']}/status"
    return await clerk.post(url, form, htmx=True, headers={"X-Tab-Id": tab_id})


async def test_an_echo_mark_cannot_be_forged_nor_a_tab_id_read(live: LiveApp) -> None:
    mine, theirs = await a_purchase("supply", "draft"), await a_purchase("supply", "pending")
    async with live.client() as own_http, live.client() as other_http:
        clerk, colleague = Clerk(own_http), Clerk(other_http)
        assert (await clerk.login("supervisor")).status_code == 303
        assert (await colleague.login("manager")).status_code == 303
        page = (await clerk.get("/purchases/supply")).text
        found = TAB.search(page)
        assert found is not None
        tab_id, mark = found.groups()
        async with open_stream(other_http) as stream:  # what the colleague can read
            await stream.next()
            # The colleague sends the clerk's tab id (say they got hold of it), then the clerk.
            assert (await move_from_tab(colleague, theirs, "draft", tab_id)).status_code == 200
            assert (await move_from_tab(clerk, mine, "pending", tab_id)).status_code == 200
            frames = await stream.events(2)
    assert [f.json["purchase_id"] for f in frames] == [theirs["id"], mine["id"]]
    assert frames[0].json["echo"] not in ("", mark)  # the clerk's page shows the colleague's move
    assert frames[1].json["echo"] == mark  # and recognises its own
    assert all(tab_id not in frame.data for frame in frames)
