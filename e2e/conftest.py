"""A live server per test session on a free port, and Chromium from the system when it has one."""

from __future__ import annotations

import contextlib
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext
from playwright.sync_api import Error as PlaywrightError

from e2e.pages import BROWSER_PROBLEMS, CHROMIUM_FLAGS, system_chromium
from tests.helpers import seeded
from tests.helpers.report import COALESCED, LATENCIES, TEST_REPORT
from tests.helpers.servers import LiveServer, serving


def pytest_configure(config: pytest.Config) -> None:
    seeded.share_run_id(config)


def pytest_unconfigure(config: pytest.Config) -> None:
    seeded.forget(config)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    executable = system_chromium()
    if executable is None:
        return browser_type_launch_args
    return {**browser_type_launch_args, "executable_path": executable, "args": CHROMIUM_FLAGS}


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


# A failing test's traces (open with `playwright show-trace`), screenshots and server logs.
ARTIFACTS = Path("var/test-artifacts")
KEPT: list[Path] = []
CONTEXTS = pytest.StashKey[list[BrowserContext]]()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Attach the server's output to a failing test's report, and keep its artifacts while its
    pages are still open."""
    if call.when == "teardown":
        carry_figures(item)  # before the report is made: it copies the properties
    outcome = yield
    report = outcome.get_result()
    if not report.failed:
        return
    funcargs = getattr(item, "funcargs", {})
    servers = [value for value in funcargs.values() if isinstance(value, LiveServer)]
    for server in servers:  # the shared server, or a module's own
        report.sections.append((f"live server log ({server.url})", server.log()[-20000:]))
    if report.when == "call":
        keep_artifacts(item, servers)


def keep_artifacts(item: pytest.Item, servers: list[LiveServer]) -> None:
    folder = ARTIFACTS / re.sub(r"[^A-Za-z0-9_.-]+", "-", item.nodeid).strip("-")
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    KEPT.append(folder)
    for server in servers:
        (folder / f"server-{server.port}.log").write_text(server.log())
    for n, context in enumerate(item.stash.get(CONTEXTS, []), 1):
        try:
            for m, page in enumerate(context.pages, 1):
                page.screenshot(path=folder / f"context{n}-page{m}.png", full_page=True)
            context.tracing.stop(path=folder / f"context{n}-trace.zip")
        except PlaywrightError:
            pass  # the test closed this context: its trace went with it


@pytest.fixture(autouse=True)
def traced_contexts(
    request: pytest.FixtureRequest, browser: Browser, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """Trace every browser context the test opens, for `keep_artifacts` should it fail."""
    contexts = request.node.stash[CONTEXTS] = []
    open_context = browser.new_context

    def traced(*args: Any, **kwargs: Any) -> BrowserContext:
        context = open_context(*args, **kwargs)
        context.tracing.start(snapshots=True, sources=True)
        contexts.append(context)
        return context

    monkeypatch.setattr(browser, "new_context", traced)
    yield
    for context in contexts:
        with contextlib.suppress(PlaywrightError):  # closed by the test, or its trace kept
            context.tracing.stop()


# What each test measured or kept travels with its teardown report (user_properties) into these
# totals, so that the summary is complete when pytest-xdist runs the tests in worker processes.
FIGURES_PROPERTY = "e2e figures"
_totals: dict[str, list[Any]] = {"kept": [], "report": [], "coalesced": [], "latencies": []}


def carry_figures(item: pytest.Item) -> None:
    figures = {
        "kept": [str(folder) for folder in KEPT],
        "report": list(TEST_REPORT),
        "coalesced": [list(c) for c in COALESCED],
        "latencies": list(LATENCIES),
    }
    if any(figures.values()):
        item.user_properties.append((FIGURES_PROPERTY, figures))
    for gathered in (KEPT, TEST_REPORT, COALESCED, LATENCIES):
        gathered.clear()


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Gather the figures; with xdist this runs in the controller on every worker's report."""
    if report.when != "teardown":
        return
    for name, value in report.user_properties:
        if name == FIGURES_PROPERTY:
            for key, values in value.items():
                _totals[key].extend(values)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    for folder in _totals["kept"]:
        terminalreporter.write_line(f"kept for the failed test: {folder}/")
    for line in _totals["report"]:
        terminalreporter.write_line(line)
    for kind, events, refreshes in _totals["coalesced"]:
        terminalreporter.write_line(f"{events} {kind} events in a row: {refreshes} table refreshes")
    if _totals["latencies"]:
        ordered = sorted(_totals["latencies"])
        median = ordered[len(ordered) // 2]
        terminalreporter.write_line(
            f"live update, click in A to row changed in B: median {median:.0f} ms, "
            f"worst {ordered[-1]:.0f} ms, best {ordered[0]:.0f} ms over {len(ordered)} changes"
        )
