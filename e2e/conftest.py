"""A live server per test session on a free port, and Chromium from the system when it has one."""

from __future__ import annotations

import os
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from e2e.pages import BROWSER_PROBLEMS
from purchasing.services.demo_data import MAIN
from tests.report import TEST_REPORT
from tests.servers import ServerProcess

CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LATENCIES: list[float] = []  # click in one browser to the change in another's table, in ms
COALESCED: list[tuple[str, int, int]] = []  # (kind, events in a burst, table refreshes they caused)


def system_chromium() -> str | None:
    """A Chromium installed by the system, unless Playwright's own browser should be used."""
    explicit = os.environ.get("CHROMIUM_EXECUTABLE")
    if explicit:
        return explicit
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    executable = system_chromium()
    if executable is None:
        return browser_type_launch_args
    return {**browser_type_launch_args, "executable_path": executable, "args": CHROMIUM_FLAGS}


class LiveServer(ServerProcess):
    """`purchasing serve` in a subprocess, on a migrated and seeded SQLite database of its own."""

    def __init__(self, directory: Path) -> None:
        super().__init__(directory, {"DATABASE_URL": f"sqlite:///{directory / 'e2e.sqlite3'}"})
        self.used: set[int] = set()

    def query(self, sql: str, *args: object) -> list[tuple[Any, ...]]:
        """Read (or, for test set-up only, write) the server's database directly."""
        with sqlite3.connect(self.directory / "e2e.sqlite3") as connection:
            return connection.execute(sql, args).fetchall()

    def newest_event(self) -> int:
        return int(self.query("SELECT max(id) FROM outbox_event")[0][0])

    def fresh_purchase(self, kind: str) -> str:
        """The invoice of a draft purchase of `kind`, of the demo's main company (the one the
        demo's clerks work for), that no other test has touched."""
        rows = self.query(
            "SELECT purchase.id, invoice_number FROM purchase"
            " JOIN company ON company.id = purchase.company"
            " WHERE kind = ? AND status = 'draft' AND company.name = ? ORDER BY purchase.id",
            kind,
            MAIN.name,
        )
        for purchase_id, invoice in rows:
            if purchase_id not in self.used:
                self.used.add(purchase_id)
                return str(invoice)
        raise LookupError(f"no untouched draft {kind} purchase left")


S = TypeVar("S", bound=ServerProcess)


def serving(server: S, per_kind: int | None = None) -> Iterator[S]:
    """For a fixture: `server` migrated, seeded with `per_kind` purchases of each kind (none when
    None), serving until the fixture ends."""
    server.command("migrate")
    if per_kind is not None:
        server.command("seed-demo", "--per-kind", str(per_kind))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    # Enough untouched drafts for every test.
    yield from serving(LiveServer(tmp_path_factory.mktemp("live")), per_kind=200)


@pytest.fixture(scope="session")
def base_url(live_server: LiveServer) -> str:
    return live_server.url


@pytest.fixture(autouse=True)
def no_browser_problems() -> Iterator[None]:
    """Every test fails on a CSP refusal, a script error or an unexpected dialog in any page."""
    BROWSER_PROBLEMS.clear()
    yield
    assert BROWSER_PROBLEMS == []


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Attach the server's output to a failing test's report."""
    outcome = yield
    report = outcome.get_result()
    funcargs = item.funcargs if hasattr(item, "funcargs") and report.failed else {}
    for server in funcargs.values():  # the shared server, or a module's own
        if isinstance(server, LiveServer):
            report.sections.append((f"live server log ({server.url})", server.log()[-20000:]))


def pytest_terminal_summary(terminalreporter: Any) -> None:
    for line in TEST_REPORT:
        terminalreporter.write_line(line)
    for kind, events, refreshes in COALESCED:
        terminalreporter.write_line(f"{events} {kind} events in a row: {refreshes} table refreshes")
    if LATENCIES:
        ordered = sorted(LATENCIES)
        median = ordered[len(ordered) // 2]
        terminalreporter.write_line(
            f"live update, click in A to row changed in B: median {median:.0f} ms, "
            f"worst {ordered[-1]:.0f} ms, best {ordered[0]:.0f} ms over {len(ordered)} changes"
        )
