"""Engine selection from `DATABASE_URL`, table binding, migrations and write transactions."""

from __future__ import annotations

import asyncio
import os
import re
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit

import aiosqlite
import asyncpg
from piccolo.apps.migrations.commands.forwards import run_forwards
from piccolo.apps.migrations.tables import Migration
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType, dict_factory
from piccolo.table import Table

from purchasing.tables import ALL_TABLES

# Piccolo's migration runner finds its engine through this module, which defers to `current_engine`.
os.environ.setdefault("PICCOLO_CONF", "purchasing.piccolo_conf")

SQLITE_BUSY_TIMEOUT_S = 30
# The one piece of state shared by every app in a process, by design: Piccolo binds each table
# class to an engine (`Table._meta.db`), so a process talks to one database. Everything else an app
# holds (its hub, its `Changes`, its stores) lives on the app (`app.state`).
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


class SQLiteWriter:
    """One connection, on one thread, for every write transaction run straight on sqlite3
    (`db_direct`): a script (a generator of statements) runs whole on that thread, so a
    transaction costs one thread hop. Both open with the first transaction; `close` ends them."""

    def __init__(self, connection_kwargs: dict[str, Any]) -> None:
        self._kwargs = connection_kwargs
        self._thread: ThreadPoolExecutor | None = None
        self._connection: sqlite3.Connection | None = None

    async def run(self, script: Any) -> Any:
        if self._thread is None:
            self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-writer")
        return await asyncio.get_running_loop().run_in_executor(self._thread, self._run, script)

    def _run(self, script: Any) -> Any:
        if self._connection is None:
            self._connection = sqlite3.connect(**self._kwargs)
            self._connection.row_factory = sqlite3.Row
        connection = self._connection
        connection.execute("BEGIN IMMEDIATE")
        try:
            step = next(script)
            while True:
                statement, params = step
                rows = (
                    [dict(row) for row in connection.execute(statement.sqlite, params)]
                    if statement.sqlite
                    else []
                )
                step = script.send(rows)
        except StopIteration as done:
            result = done.value
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        try:
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        return result

    async def close(self) -> None:
        thread, self._thread = self._thread, None
        if thread is not None:
            await asyncio.get_running_loop().run_in_executor(thread, self._close)
            thread.shutdown(wait=False)  # idle now: its thread ends without holding the loop

    def _close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()


class SharedReaderSQLiteEngine(SQLiteEngine):
    """Piccolo's SQLite engine opens a connection, and a thread for it, for every statement run
    outside a transaction. While the app runs (`start` to `stop`), plain SELECTs share one
    connection kept open instead: in WAL mode each statement reads what has committed by then.
    Everything else, and every statement before `start` or after `stop`, runs as Piccolo runs
    it, but for the transactions of `db_direct`, which run on `writer`."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._reader: aiosqlite.Connection | None = None
        self.writer = SQLiteWriter(self.connection_kwargs)

    async def open_reader(self) -> None:
        if self._reader is None:
            self._reader = await aiosqlite.connect(**self.connection_kwargs)
            self._reader.row_factory = dict_factory  # type: ignore[assignment]

    async def close_reader(self) -> None:
        reader, self._reader = self._reader, None
        if reader is not None:
            await reader.close()

    async def _run_in_new_connection(
        self,
        query: str,
        args: list[Any] | None = None,
        query_type: str = "generic",
        table: type[Table] | None = None,
    ) -> Any:
        if self._reader is None or query.split(None, 1)[0].upper() != "SELECT":
            return await super()._run_in_new_connection(query, args, query_type, table)
        async with self._reader.execute(query, args or []) as cursor:
            return await cursor.fetchall()


def engine_from_url(url: str) -> Engine[Any]:
    """`sqlite:///path` (relative to the working directory) or `postgres://...`."""
    scheme = urlsplit(url).scheme
    if scheme == "sqlite":
        path = Path(url.removeprefix("sqlite:///"))
        path.parent.mkdir(parents=True, exist_ok=True)
        return SharedReaderSQLiteEngine(path=str(path), timeout=SQLITE_BUSY_TIMEOUT_S)
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


def violates_unique(error: BaseException, table: str, column: str) -> bool:
    """Whether `error` is either database refusing a row because a unique index over
    `table.column` already holds its value."""
    if isinstance(error, asyncpg.UniqueViolationError):
        # detail: Key (company, kind, invoice_number)=(1, supply, INV/1) already exists.
        key = (error.detail or "").partition(")=")[0]
        return error.table_name == table and column in re.findall(r"\w+", key)
    if isinstance(error, sqlite3.IntegrityError):
        # UNIQUE constraint failed: purchase.company, purchase.kind, purchase.invoice_number
        failed = str(error)
        return failed.startswith("UNIQUE constraint failed") and f"{table}.{column}" in failed
    return False


async def migrate() -> None:
    """Apply every migration that has not run yet."""
    engine = current_engine()
    if isinstance(engine, SQLiteEngine):
        await engine._run_in_new_connection("PRAGMA journal_mode=WAL")
    result = await run_forwards(app_name="purchasing")
    if not result.success:
        raise MigrationError(result.message or "migrations failed")


async def start(engine: Engine[Any], pool_size: int = 10) -> None:
    if isinstance(engine, SharedReaderSQLiteEngine):
        await engine.open_reader()
    if isinstance(engine, PostgresEngine):
        # The outbox hands out ids as "newest + 1" under a lock, which needs each statement to
        # see what committed before it: READ COMMITTED, whatever the server's default.
        await engine.start_connection_pool(
            min_size=1,
            max_size=pool_size,
            server_settings={"default_transaction_isolation": "read committed"},
        )


async def stop(engine: Engine[Any]) -> None:
    if isinstance(engine, SharedReaderSQLiteEngine):
        await engine.close_reader()
        await engine.writer.close()
    if isinstance(engine, PostgresEngine):
        await engine.close_connection_pool()
