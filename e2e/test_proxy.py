"""A real proxy in front: Debian's nginx with `deploy/nginx.conf` itself (TLS, HTTP/2), two
`purchasing serve` instances behind it on PostgreSQL with Redis, and a browser with ten tabs,
while the instances are restarted one after the other and a clerk makes a change every 200 ms.
"""

from __future__ import annotations

import base64
import hashlib
import re
import shutil
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import trustme
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from playwright.sync_api import Browser, Playwright, expect

from e2e.pages import CHROMIUM_FLAGS, IndexPage, LoginPage, system_chromium, until
from purchasing.services.demo_data import MAIN
from tests.helpers.process import ServerProcess
from tests.helpers.report import TEST_REPORT
from tests.helpers.seeded import postgres_template
from tests.helpers.servers import AppServer, free_port, missing, postgres_and_redis, run_async

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"
TABS = 10
PURCHASES = 5
CHANGE_EVERY_S = 0.2
VIEW = "?per_page=50&sort=invoice&dir=asc"
CYCLE = {
    "draft": "pending",
    "pending": "confirmed",
    "confirmed": "in_transit",
    "in_transit": "draft",
}
VERSION = re.compile(r'data-version="(\d+)"')
UPSTREAM = re.compile(r"^server \S+ ")
# Every toast a page shows, by event id, whatever happens to it later.
RECORD_TOASTS = """
window.__toasts = [];
document.addEventListener("DOMContentLoaded", () => {
  const box = document.getElementById("toasts");
  if (!box) return;
  new MutationObserver((records) => {
    for (const record of records) {
      for (const node of record.addedNodes) {
        if (node.dataset && node.dataset.eventId) {
          window.__toasts.push(Number(node.dataset.eventId));
        }
      }
    }
  }).observe(box, { childList: true });
});
"""


class Proxy(ServerProcess):
    """nginx running a verbatim copy of deploy/nginx.conf, with the site's own parts (the
    instances, the address, the certificate) written beside it; its error log is the log."""

    def __init__(self, directory: Path, upstreams: list[int]) -> None:
        super().__init__("nginx", free_port(), directory / "error.log")
        self.binary = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/sbin")
        if self.binary is None:
            missing("nginx (make test installs Debian's package)", "not found")
        self.directory = directory
        self.url = f"https://127.0.0.1:{self.port}"
        authority = trustme.CA()
        certificate = authority.issue_cert("127.0.0.1")
        pem = directory / "server.pem"
        certificate.private_key_and_cert_chain_pem.write_to_path(pem)
        self.verify = ssl.create_default_context()
        authority.configure_trust(self.verify)
        served = x509.load_pem_x509_certificate(certificate.cert_chain_pems[0].bytes())
        key = served.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
        self.spki = base64.b64encode(hashlib.sha256(key).digest()).decode()
        shutil.copy(DEPLOY / "nginx.conf", directory / "nginx.conf")
        site = directory / "purchasing"
        site.mkdir()
        # The shipped upstream lines, with their failure settings, pointed at this test's ports.
        shipped = (DEPLOY / "purchasing" / "upstreams.conf").read_text()
        servers = iter(upstreams)
        lines = [
            UPSTREAM.sub(lambda _: f"server 127.0.0.1:{next(servers)} ", line)
            for line in shipped.splitlines()
            if UPSTREAM.match(line)
        ]
        assert len(lines) == len(upstreams), shipped
        (site / "upstreams.conf").write_text("\n".join(lines) + "\n")
        (site / "listen.conf").write_text(f"listen 127.0.0.1:{self.port} ssl http2;\n")
        (site / "tls.conf").write_text(f"ssl_certificate {pem};\nssl_certificate_key {pem};\n")

    def start(self) -> None:
        assert self.binary is not None
        command = [self.binary, "-p", str(self.directory), "-c", str(self.directory / "nginx.conf")]
        command += ["-e", str(self.log_path)]
        command += ["-g", f"daemon off; pid {self.directory / 'nginx.pid'};"]
        self.spawn(command)

        def answers() -> bool:
            if not self.alive():
                raise RuntimeError(f"nginx exited:\n{self.log()}")
            with socket.socket() as probe:
                return probe.connect_ex(("127.0.0.1", self.port)) == 0

        until(answers, "nginx listening")


class Site:
    """Two instances on one PostgreSQL database, told of each other's changes by Redis, which
    also keeps the sessions; nginx in front."""

    def __init__(self, directory: Path, database_url: str, redis_url: str) -> None:
        env = {
            "DATABASE_URL": database_url,
            "BROKER_URL": redis_url,
            "STORE_URL": redis_url.rsplit("/", 1)[0] + "/1",
            "TRUSTED_PROXIES": "127.0.0.1",
        }
        self.database_url = database_url
        self.instances = [AppServer(directory, env, name) for name in ("a", "b")]
        (directory / "nginx").mkdir()
        self.proxy = Proxy(directory / "nginx", [instance.port for instance in self.instances])

    def query(self, sql: str, *args: object) -> list[Any]:
        async def run() -> list[Any]:
            connection = await asyncpg.connect(self.database_url)
            try:
                return list(await connection.fetch(sql, *args))
            finally:
                await connection.close()

        return run_async(run())


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    directory = tmp_path_factory.mktemp("proxy")
    with postgres_and_redis(directory, postgres_template(MAIN.purchases_per_kind)) as (
        url,
        redis_url,
    ):
        made = Site(directory, url, redis_url)
        for instance in made.instances:
            instance.start()
        made.proxy.start()
        try:
            yield made
        finally:
            made.proxy.stop()
            for instance in made.instances:
                instance.stop()


@pytest.fixture
def browser_trusting(playwright: Playwright, site: Site) -> Iterator[Browser]:
    """Chromium trusting the proxy's certificate (as if issued by a real authority), so its
    pages are a secure context and their tabs share one stream."""
    trust = f"--ignore-certificate-errors-spki-list={site.proxy.spki}"
    launched = playwright.chromium.launch(
        executable_path=system_chromium(), args=[*CHROMIUM_FLAGS, trust]
    )
    yield launched
    launched.close()


class Clerk(threading.Thread):
    """Moves the purchases round their open statuses through the proxy, one change every
    200 ms, until told to stop. A request the proxy could not pass on (an instance going down
    as it was sent) is sent again, as a clerk would click again: the version makes it safe."""

    def __init__(self, site: Site, invoices: list[str]) -> None:
        super().__init__(daemon=True)
        self.http = httpx.Client(base_url=site.proxy.url, verify=site.proxy.verify, timeout=30)
        self.http.get("/login")
        form = {"username": "supervisor", "password": "supervisor-demo"}
        login = self.http.post("/login", data=form, headers=self.headers())
        assert login.status_code == 303, login.text
        rows = site.query(
            "SELECT id, status, version FROM purchase WHERE invoice_number = ANY($1::text[])"
            " AND kind = 'supply' ORDER BY invoice_number",
            invoices,
        )
        self.purchases = [dict(row) for row in rows]
        self.changes = 0
        self.resent = 0
        self.stopping = threading.Event()
        self.failure: BaseException | None = None

    def headers(self) -> dict[str, str]:
        return {"x-csrftoken": self.http.cookies.get("csrftoken", ""), "hx-request": "true"}

    def run(self) -> None:
        try:
            while not self.stopping.is_set():
                started = time.monotonic()
                self.change(self.purchases[self.changes % len(self.purchases)])
                self.stopping.wait(max(CHANGE_EVERY_S - (time.monotonic() - started), 0))
        except BaseException as error:
            self.failure = error
        finally:
            self.http.close()

    def change(self, purchase: dict[str, Any]) -> None:
        target = CYCLE[purchase["status"]]
        form = {"status": target, "version": str(purchase["version"])}
        url = f"/purchases/supply/{purchase['id']}/status"
        for _ in range(50):
            answer = self.http.post(url, data=form, headers=self.headers())
            if answer.status_code not in (502, 503, 504):
                break
            self.resent += 1
            self.stopping.wait(CHANGE_EVERY_S)  # and clicks again a moment later
        assert answer.status_code == 200, (answer.status_code, answer.text[:300])
        found = VERSION.search(answer.text)
        assert found is not None
        purchase["status"], purchase["version"] = target, int(found.group(1))
        self.changes += 1

    def made(self, count: int) -> None:
        """Wait until `count` changes more than now have gone through."""
        goal = self.changes + count
        until(lambda: self.changes >= goal or self.failure is not None, f"{count} changes", 60)
        assert self.failure is None, self.failure

    def finish(self) -> None:
        self.stopping.set()
        self.join(30)
        assert self.failure is None, self.failure


def restart(instance: AppServer, clerk: Clerk) -> None:
    """SIGTERM, as a process manager stops it for an upgrade, then start it again, and wait
    until the proxy sends it changes again before going on (the next restart stops the other)."""
    instance.stop()
    clerk.made(3)  # changes go on through the other instance meanwhile
    instance.start()
    until(lambda: status_changes(instance) > 0, "the proxy using the instance again", 30)
    clerk.made(3)


def status_changes(instance: AppServer) -> float:
    """Status changes this instance has answered since it started."""
    metrics = httpx.get(f"{instance.url}/metrics", timeout=5).text
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in metrics.splitlines()
        if line.startswith("purchasing_http_requests_total{")
        and 'path="/purchases/{kind}/{purchase_id}/status"' in line
    )


def test_a_rolling_restart_behind_nginx_loses_nothing_and_shows_nothing_twice(
    browser_trusting: Browser, site: Site
) -> None:
    rows = site.query(
        "SELECT p.invoice_number FROM purchase p JOIN company c ON c.id = p.company"
        " WHERE p.kind = 'supply' AND p.status = 'draft' AND c.name = $1"
        " ORDER BY p.invoice_number LIMIT $2",
        MAIN.name,
        PURCHASES,
    )
    invoices = [row["invoice_number"] for row in rows]
    context = browser_trusting.new_context(base_url=site.proxy.url)
    context.add_init_script(script=RECORD_TOASTS)
    try:
        first = context.new_page()
        LoginPage(first).login("manager")
        tabs = [IndexPage(first, "supply").open(VIEW)]
        tabs += [IndexPage(context.new_page(), "supply").open(VIEW) for _ in range(TABS - 1)]
        for tab in tabs:
            expect(tab.page.get_by_test_id("connection-status")).to_have_attribute(
                "data-state", "live"
            )
        assert first.evaluate("() => window.isSecureContext")
        assert (
            first.evaluate("() => performance.getEntriesByType('navigation')[0].nextHopProtocol")
            == "h2"
        )
        newest_before = int(
            site.query("SELECT coalesce(max(id), 0) AS id FROM outbox_event")[0]["id"]
        )

        clerk = Clerk(site, invoices)
        started = time.monotonic()
        clerk.start()
        clerk.made(5)
        for instance in site.instances:
            restart(instance, clerk)
        clerk.finish()
        took = time.monotonic() - started

        events = [
            row["id"]
            for row in site.query(
                "SELECT id FROM outbox_event WHERE id > $1 ORDER BY id", newest_before
            )
        ]
        assert len(events) == clerk.changes  # each change made exactly one event
        final = {p["id"]: p["status"] for p in clerk.purchases}
        for tab in tabs:
            expect(tab.page.locator("body")).to_have_attribute(
                "data-last-event-id", str(events[-1]), timeout=20_000
            )
            for purchase_id, status in final.items():
                row = tab.page.locator(
                    f"[data-testid=purchase-row][data-purchase-id='{purchase_id}']"
                )
                expect(row).to_have_attribute("data-status", status)
        toasts = [tab.page.evaluate("() => window.__toasts") for tab in tabs]
        for shown in toasts:
            assert sorted(shown) == events  # every change once: none lost, none twice
    finally:
        context.close()
    TEST_REPORT.append(
        f"rolling restart behind nginx: {clerk.changes} changes in {took:.1f} s while both "
        f"instances restarted in turn ({clerk.resent} requests sent again after a 502); each of "
        f"{TABS} tabs saw {sorted(len(set(t)) for t in toasts)} changes and showed "
        f"{sorted(len(t) for t in toasts)} toasts"
    )
