"""Fresh databases for the tests, on SQLite and on PostgreSQL: each a copy of a template that the
real migrations (and the demo seed) built once per run."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import uuid
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any, Literal, TypeVar

import asyncpg
import pytest

from purchasing import db
from purchasing.services.demo import seed_demo
from tests.helpers.app import TEST_PASSWORDS
from tests.helpers.servers import POSTGRES_URL, database_url, missing

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
            await seed_demo(today=date.fromisoformat(SEED_DAY), password_profile=TEST_PASSWORDS)
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


# For tests whose behaviour does not depend on the database engine: they run on SQLite alone
# (the engine-dependent ones, such as concurrent writes, run on both).
SQLITE_ONLY = pytest.mark.parametrize("databases", ["sqlite"], indirect=True)
