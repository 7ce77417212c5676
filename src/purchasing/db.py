"""Engine selection from `DATABASE_URL`, table binding, migrations and write transactions."""

from __future__ import annotations

import os
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit

from piccolo.apps.migrations.commands.forwards import run_forwards
from piccolo.apps.migrations.tables import Migration
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType
from piccolo.table import Table

from purchasing.tables import ALL_TABLES

# Piccolo's migration runner finds its engine through this module, which defers to `current_engine`.
os.environ.setdefault("PICCOLO_CONF", "purchasing.piccolo_conf")

SQLITE_BUSY_TIMEOUT_S = 30
_engine: Engine[Any] | None = None


class MigrationError(RuntimeError):
    pass


class LazyPostgresEngine(PostgresEngine):
    """Piccolo's engine without the version check and extension set-up it runs at construction,
    which would connect (and block for its timeout when the server is away) before the app has
    even started; the pool opens in the app's lifespan instead."""

    async def check_version(self) -> None:
        return None

    async def prep_database(self) -> None:
        return None


def engine_from_url(url: str) -> Engine[Any]:
    """`sqlite:///path` (relative to the working directory) or `postgres://...`."""
    scheme = urlsplit(url).scheme
    if scheme == "sqlite":
        path = Path(url.removeprefix("sqlite:///"))
        path.parent.mkdir(parents=True, exist_ok=True)
        return SQLiteEngine(path=str(path), timeout=SQLITE_BUSY_TIMEOUT_S)
    if scheme in {"postgres", "postgresql"}:
        return LazyPostgresEngine(config={"dsn": url}, extensions=())
    raise ValueError(f"DATABASE_URL must start with sqlite:/// or postgres://, not {scheme!r}")


def use_database(url: str) -> Engine[Any]:
    """Point every table, and Piccolo's migration runner, at the database behind `url`."""
    global _engine
    _engine = engine_from_url(url)
    tables: tuple[type[Table], ...] = (*ALL_TABLES, Migration)
    for table in tables:
        table._meta.db = _engine
    return _engine


def current_engine() -> Engine[Any]:
    if _engine is None:
        from purchasing.settings import Settings

        return use_database(Settings.from_env().database_url)
    return _engine


def write_transaction() -> AbstractAsyncContextManager[Any]:
    """A transaction that takes SQLite's write lock up front, so concurrent writers queue."""
    engine = current_engine()
    if isinstance(engine, SQLiteEngine):
        return engine.transaction(transaction_type=TransactionType.immediate)
    return cast(AbstractAsyncContextManager[Any], engine.transaction())


async def migrate() -> None:
    """Apply every migration that has not run yet."""
    engine = current_engine()
    if isinstance(engine, SQLiteEngine):
        await engine._run_in_new_connection("PRAGMA journal_mode=WAL")
    result = await run_forwards(app_name="purchasing")
    if not result.success:
        raise MigrationError(result.message or "migrations failed")


async def start(engine: Engine[Any], pool_size: int = 10) -> None:
    if isinstance(engine, PostgresEngine):
        # The outbox hands out ids as "newest + 1" under a lock, which needs each statement to
        # see what committed before it: READ COMMITTED, whatever the server's default.
        await engine.start_connection_pool(
            min_size=1,
            max_size=pool_size,
            server_settings={"default_transaction_isolation": "read committed"},
        )


async def stop(engine: Engine[Any]) -> None:
    if isinstance(engine, PostgresEngine):
        await engine.close_connection_pool()
