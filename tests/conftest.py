"""Fixtures every tier shares: fresh databases on each engine (each database test runs on SQLite
and on PostgreSQL), and the figures tests report, gathered across pytest-xdist's workers."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import cast

import pytest

from purchasing import db
from tests.helpers import seeded
from tests.helpers.databases import (
    ENGINES,
    Content,
    Databases,
    PostgresDatabases,
    SQLiteDatabases,
)
from tests.helpers.report import HOSTILE_RESULTS, TEST_REPORT


@pytest.fixture(scope="session", params=ENGINES)
def databases(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Databases]:
    """Where fresh databases come from: SQLite, then PostgreSQL (which skips when no server
    answers, and fails under `CI=true`). Tests using it run once per engine."""
    with asyncio.Runner(loop_factory=asyncio.new_event_loop) as runner:
        made: Databases
        if request.param == "sqlite":
            made = SQLiteDatabases(runner, tmp_path_factory.mktemp("templates"))
        else:
            made = PostgresDatabases(runner)
        try:
            yield made
        finally:
            made.close()


@contextmanager
def _bound(databases: Databases, content: Content, tmp_path: Path) -> Iterator[str]:
    with databases.fresh(content, tmp_path) as url:
        db.use_database(url)
        yield url


@pytest.fixture
def database(databases: Databases, tmp_path: Path) -> Iterator[str]:
    """The URL of this test's own copy of the demo database; the tables are bound to it."""
    with _bound(databases, "demo", tmp_path) as url:
        yield url


@pytest.fixture
def migrated_database(databases: Databases, tmp_path: Path) -> Iterator[str]:
    """The URL of this test's own migrated, empty database; the tables are bound to it."""
    with _bound(databases, "migrated", tmp_path) as url:
        yield url


@pytest.fixture
def blank_database(databases: Databases, tmp_path: Path) -> Iterator[str]:
    """The URL of a database with nothing in it, not even the migrations."""
    with _bound(databases, "blank", tmp_path) as url:
        yield url


# Both that and TEST_REPORT travel with each test's teardown report (user_properties) into these
# totals, so that they are complete too when pytest-xdist runs the tests in worker processes.
HOSTILE_PROPERTY = "hostile input"
REPORT_PROPERTY = "test report"
_hostile_totals: Counter[tuple[str, int]] = Counter()
_report_lines: list[str] = []


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    if call.when == "teardown":
        if HOSTILE_RESULTS:
            counts = [[target, status, n] for (target, status), n in HOSTILE_RESULTS.items()]
            item.user_properties.append((HOSTILE_PROPERTY, counts))
            HOSTILE_RESULTS.clear()
        if TEST_REPORT:
            item.user_properties.append((REPORT_PROPERTY, list(TEST_REPORT)))
            TEST_REPORT.clear()
    return (yield)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Gather the figures; with xdist this runs in the controller on every worker's report."""
    if report.when != "teardown":
        return
    for name, value in report.user_properties:
        if name == HOSTILE_PROPERTY:
            for target, status, n in cast(list[tuple[str, int, int]], value):
                _hostile_totals[(target, status)] += n
        elif name == REPORT_PROPERTY:
            _report_lines.extend(cast(list[str], value))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for line in _report_lines:
        terminalreporter.write_line(line)
    if not _hostile_totals:
        return
    total = sum(_hostile_totals.values())
    terminalreporter.write_line(f"hostile input: {total} requests")
    for (target, status), count in sorted(_hostile_totals.items()):
        terminalreporter.write_line(f"  {target:<28} HTTP {status}: {count}")


def pytest_configure(config: pytest.Config) -> None:
    seeded.share_run_id(config)


def pytest_unconfigure(config: pytest.Config) -> None:
    seeded.forget(config)
