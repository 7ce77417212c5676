"""A live server per test session on a free port, and Chromium from the system when it has one."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from e2e.pages import BROWSER_PROBLEMS, CHROMIUM_FLAGS, system_chromium
from tests.helpers.report import COALESCED, LATENCIES, TEST_REPORT
from tests.helpers.servers import LiveServer, serving


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
