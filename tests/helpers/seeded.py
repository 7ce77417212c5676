"""Demo databases for servers under test, migrated and seeded by the real commands once per test
run and copied for each server: a seed of 200 purchases a kind takes half a minute, a copy a
blink. pytest-xdist's workers share them (a file lock says who builds); the run's controller
removes them at the end (`forget`)."""

from __future__ import annotations

import fcntl
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import asyncpg
import pytest

from tests.helpers.app import TEST_PASSWORDS
from tests.helpers.servers import POSTGRES_URL, database_url, run_async

# One id for the whole run: xdist gives each worker the controller's (`share_run_id`).
RUN_ID = os.environ.setdefault("PYTEST_XDIST_TESTRUNUID", uuid.uuid4().hex)[:12]
FOLDER = Path(tempfile.gettempdir()) / f"purchasing-seeded-{RUN_ID}"
PREFIX = f"purchasing_seeded_{RUN_ID}_"


def _purchasing(database: str, *args: str) -> None:
    with tempfile.TemporaryDirectory() as var_dir:
        env = {
            **os.environ,
            "DATABASE_URL": database,
            "VAR_DIR": var_dir,
            "SECRET_KEY": "seed",
            "PASSWORD_PROFILE": TEST_PASSWORDS,
        }
        subprocess.run(
            [sys.executable, "-m", "purchasing", *args], env=env, check=True, capture_output=True
        )


def _fill(database: str, per_kind: int | None) -> None:
    """Every migration, then the demo with `per_kind` purchases of each kind (None: no demo)."""
    _purchasing(database, "migrate")
    if per_kind is not None:
        _purchasing(database, "seed-demo", "--per-kind", str(per_kind))


@contextmanager
def _locked(name: str) -> Iterator[None]:
    FOLDER.mkdir(exist_ok=True)
    with (FOLDER / f"{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _once(name: str, exists: Callable[[], bool], build: Callable[[], None]) -> None:
    with _locked(name):
        if not exists():
            build()


def sqlite_copy(target: Path, per_kind: int | None = None) -> str:
    """A copy at `target` of the run's demo database with `per_kind` purchases a kind; its URL."""
    template = FOLDER / f"demo-{per_kind}.sqlite3"

    def build() -> None:
        building = template.with_suffix(".building")
        _fill(f"sqlite:///{building}", per_kind)
        with sqlite3.connect(building) as connection:  # the log folded in: one file is whole
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        building.rename(template)

    _once(template.name, template.exists, build)
    shutil.copy(template, target)
    return f"sqlite:///{target}"


async def _execute(statement: str) -> list[asyncpg.Record]:
    admin = await asyncpg.connect(POSTGRES_URL, timeout=5)
    try:
        return list(await admin.fetch(statement))
    finally:
        await admin.close()


def postgres_template(per_kind: int | None = None) -> str:
    """The name of the run's PostgreSQL demo database with `per_kind` purchases a kind, to copy
    with `CREATE DATABASE ... TEMPLATE`."""
    name = f"{PREFIX}{per_kind}"

    def exists() -> bool:
        query = f"SELECT 1 FROM pg_database WHERE datname = '{name}'"  # noqa: S608 - our own name
        return bool(run_async(_execute(query)))

    def build() -> None:
        building = f"{name}_building"
        run_async(_execute(f'DROP DATABASE IF EXISTS "{building}"'))
        run_async(_execute(f'CREATE DATABASE "{building}"'))
        _fill(database_url(building), per_kind)
        run_async(_execute(f'ALTER DATABASE "{building}" RENAME TO "{name}"'))

    _once(name, exists, build)
    return name


def share_run_id(config: pytest.Config) -> None:
    """In the controller (pytest_configure): the run id xdist hands its workers is ours."""
    if not hasattr(config, "workerinput") and hasattr(config.option, "testrunuid"):
        config.option.testrunuid = config.option.testrunuid or os.environ["PYTEST_XDIST_TESTRUNUID"]


def forget(config: pytest.Config) -> None:
    """Remove the run's databases, from the controller once every worker is done
    (pytest_unconfigure)."""
    if hasattr(config, "workerinput"):
        return
    shutil.rmtree(FOLDER, ignore_errors=True)
    try:
        names = run_async(
            _execute(f"SELECT datname FROM pg_database WHERE datname LIKE '{PREFIX}%'")  # noqa: S608
        )
    except (OSError, asyncpg.PostgresError):
        return  # no PostgreSQL: nothing of it to remove
    for row in names:
        run_async(_execute(f'DROP DATABASE IF EXISTS "{row["datname"]}" WITH (FORCE)'))
