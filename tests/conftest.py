"""Databases for the tests: each database test runs on SQLite and on PostgreSQL, every time on a
fresh copy of a template that the real migrations (and the demo seed) built once per run."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import uuid
from collections import Counter
from collections.abc import Coroutine, Generator, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any, Literal, TypeVar, cast

import asyncpg
import pytest

from purchasing import db
from purchasing.services.demo import seed_demo
from tests.report import TEST_REPORT
from tests.servers import POSTGRES_URL, database_url, missing

SEED_DAY = "2026-11-20"
ENGINES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]

# "blank": no tables yet; "migrated": every migration, no rows; "demo": migrated and seeded.
Content = Literal["blank", "migrated", "demo"]
T = TypeVar("T")


async def _fill(url: str, content: Content) -> None:
    """Run the real migrations on `url` and, for "demo", the demo seed."""
    engine = db.use_database(url)
    await db.start(engine)
    try:
        await db.migrate()
        if content == "demo":
            await seed_demo(today=date.fromisoformat(SEED_DAY))
    finally:
        await db.stop(engine)


class Databases:
    """Fresh databases of one engine, copied from templates built on first use.

    Set-up work runs on a private event loop, never the one a test runs on, so the fixtures
    that use it serve sync and async tests alike."""

    name: str

    def __init__(self, runner: asyncio.Runner) -> None:
        self.runner = runner

    def run(self, work: Coroutine[Any, Any, T]) -> T:
        return self.runner.run(work)

    @contextmanager
    def fresh(self, content: Content, workdir: Path) -> Iterator[str]:
        """The URL of a new database holding `content`, removed afterwards."""
        raise NotImplementedError

    def close(self) -> None:
        """Remove the templates."""


class SQLiteDatabases(Databases):
    name = "sqlite"

    def __init__(self, runner: asyncio.Runner, root: Path) -> None:
        super().__init__(runner)
        self.root = root
        self.templates: dict[Content, Path] = {}

    def template(self, content: Content) -> Path:
        if content not in self.templates:
            path = self.root / f"{content}.sqlite3"
            self.run(_fill(f"sqlite:///{path}", content))
            # Fold the write-ahead log into the main file so a plain copy is complete.
            with sqlite3.connect(path) as connection:
                connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            self.templates[content] = path
        return self.templates[content]

    @contextmanager
    def fresh(self, content: Content, workdir: Path) -> Iterator[str]:
        path = workdir / f"{content}.sqlite3"
        if content != "blank":
            shutil.copy(self.template(content), path)
        yield f"sqlite:///{path}"  # tmp_path goes with the test's other files


class PostgresDatabases(Databases):
    """Template databases named after this run, so that concurrent runs never share one;
    a test's database is `CREATE DATABASE ... TEMPLATE`, dropped with FORCE after the test."""

    name = "postgres"

    def __init__(self, runner: asyncio.Runner) -> None:
        super().__init__(runner)
        try:
            self.admin = self.run(asyncpg.connect(POSTGRES_URL, timeout=5))
        except (OSError, asyncpg.PostgresError) as error:
            missing(f"PostgreSQL at {POSTGRES_URL}", error)
            raise  # missing() has skipped or failed the test already
        self.run_id = uuid.uuid4().hex[:12]
        self.templates: dict[Content, str] = {}
        self.created: list[str] = []

    def template(self, content: Content) -> str:
        if content not in self.templates:
            name = f"purchasing_template_{self.run_id}_{content}_{len(self.created)}"
            self.run(self.admin.execute(f'CREATE DATABASE "{name}"'))
            self.created.append(name)
            self.run(_fill(database_url(name), content))
            self.templates[content] = name
        return self.templates[content]

    @contextmanager
    def fresh(self, content: Content, workdir: Path) -> Iterator[str]:
        name = f"purchasing_test_{uuid.uuid4().hex[:12]}"
        copy = "" if content == "blank" else f' TEMPLATE "{self.template(content)}"'
        self.run(self.admin.execute(f'CREATE DATABASE "{name}"{copy}'))
        try:
            yield database_url(name)
        finally:
            # FORCE: whatever the test left connected (a pool, a killed server) must not stop it.
            self.run(self.admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    def close(self) -> None:
        for name in self.created:
            self.run(self.admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self.run(self.admin.close())


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


# What the hostile-input suite sent and what came back, reported after the run.
HOSTILE_RESULTS: dict[tuple[str, int], int] = {}
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
