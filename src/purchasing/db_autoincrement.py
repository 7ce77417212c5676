"""SQLite tables whose ids are never handed out twice.

Piccolo makes a serial key `INTEGER PRIMARY KEY` on SQLite, which gives a new row the largest id
in the table plus one: deleting the newest row frees its id, and a page still open on the
deleted row would then act on the next row inserted. `AUTOINCREMENT` never hands an id out again.
SQLite cannot add it to a table in place, so each table is rebuilt the way SQLite documents for
schema changes ALTER TABLE cannot make: a copy made from the table's own CREATE statement, the
rows copied over, the old table dropped, the copy renamed and the table's indexes made again."""

from __future__ import annotations

import asyncio
import re
import sqlite3
from collections.abc import Iterable
from typing import Any

from piccolo.engine.sqlite import SQLiteEngine

from purchasing.db import MigrationError, current_engine
from purchasing.i18n import _
from purchasing.tables import OutboxEvent

AUTOINCREMENT = re.compile(r"\bAUTOINCREMENT\b", re.IGNORECASE)
INTEGER_KEY = re.compile(r"\bINTEGER PRIMARY KEY\b", re.IGNORECASE)
NEW_SUFFIX = "__new"


async def autoincrement(tables: Iterable[str]) -> list[str]:
    """Give each of `tables` an AUTOINCREMENT key on SQLite, keeping every row, all in one
    transaction; returns the tables rebuilt (one that has it already is left alone). Nothing
    to do on PostgreSQL, whose sequences never hand out an id twice."""
    engine = current_engine()
    if not isinstance(engine, SQLiteEngine):
        return []
    kwargs = dict(engine.connection_kwargs)
    return await asyncio.to_thread(_rebuild_all, kwargs, tuple(tables))


async def past_every_known_purchase() -> None:
    """Start the next purchase's id after every purchase id the outbox names. A purchase
    deleted while its table still reused ids may have freed the largest id; its events still
    name it, and an open page may still hold it."""
    if not isinstance(current_engine(), SQLiteEngine):
        return
    await OutboxEvent.raw(
        "INSERT INTO sqlite_sequence (name, seq) SELECT 'purchase', 0 "
        "WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'purchase')"
    )
    await OutboxEvent.raw(
        "UPDATE sqlite_sequence SET seq = max(seq, "
        "(SELECT coalesce(max(purchase), 0) FROM outbox_event)) WHERE name = 'purchase'"
    )


def is_autoincrement(create_sql: str) -> bool:
    return AUTOINCREMENT.search(create_sql) is not None


# The steps: https://www.sqlite.org/lang_altertable.html#otheralter
def _rebuild_all(connection_kwargs: dict[str, Any], tables: tuple[str, ...]) -> list[str]:
    """The rebuild, on a connection of its own that no other work shares: foreign keys can only
    be turned off outside a transaction, and with them on, dropping a table deletes the rows of
    every table whose foreign key cascades from it (a purchase's lines and history)."""
    connection = sqlite3.connect(**{**connection_kwargs, "isolation_level": None})
    try:
        connection.execute("PRAGMA foreign_keys = OFF")
        if connection.execute("PRAGMA foreign_keys").fetchone()[0]:
            raise MigrationError("SQLite kept foreign keys on; no table was rebuilt")
        connection.execute("BEGIN IMMEDIATE")
        try:
            rebuilt = [table for table in tables if _rebuild(connection, table)]
            _check_foreign_keys(connection)
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")
        return rebuilt
    finally:
        connection.close()


def _rebuild(connection: sqlite3.Connection, table: str) -> bool:
    """Rebuild `table` with an AUTOINCREMENT key; False when it has one already."""
    found = connection.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
    ).fetchone()
    if found is None:
        raise MigrationError(f"there is no table {table!r} to give AUTOINCREMENT")
    create_sql = found[0]
    if is_autoincrement(create_sql):
        return False
    # Indexes and triggers go with the dropped table; the ones SQLite made for UNIQUE columns
    # (no SQL of their own) come back with the copy.
    dependents = connection.execute(
        "SELECT sql FROM sqlite_master "
        "WHERE tbl_name = ? AND type IN ('index', 'trigger') AND sql IS NOT NULL",
        (table,),
    ).fetchall()
    copy = table + NEW_SUFFIX
    connection.execute(_copy_sql(create_sql, table, copy))
    columns = ", ".join(_quoted(row[1]) for row in connection.execute(_table_info(table)))
    connection.execute(
        f"INSERT INTO {_quoted(copy)} ({columns}) SELECT {columns} FROM {_quoted(table)}"  # noqa: S608 (names from sqlite_master)
    )
    connection.execute(f"DROP TABLE {_quoted(table)}")
    connection.execute(f"ALTER TABLE {_quoted(copy)} RENAME TO {_quoted(table)}")
    for (statement,) in dependents:
        connection.execute(statement)
    return True


def _copy_sql(create_sql: str, table: str, copy: str) -> str:
    """`create_sql` for a table named `copy` whose key is AUTOINCREMENT."""
    name = re.compile(rf'^CREATE TABLE\s+(?:"{re.escape(table)}"|{re.escape(table)})\s*\(')
    if not name.match(create_sql) or len(INTEGER_KEY.findall(create_sql)) != 1:
        raise MigrationError(f"cannot read the key of table {table!r} in: {create_sql}")
    renamed = name.sub(f"CREATE TABLE {_quoted(copy)} (", create_sql, count=1)
    return INTEGER_KEY.sub("INTEGER PRIMARY KEY AUTOINCREMENT", renamed, count=1)


def _check_foreign_keys(connection: sqlite3.Connection) -> None:
    """Refuse to commit when any row refers to a row that is not there."""
    broken = connection.execute("PRAGMA foreign_key_check").fetchall()
    if broken:
        raise MigrationError(
            _(
                "%(count)s rows refer to rows that do not exist (the first in table %(table)s); "
                "the database was left as it was.",
                count=len(broken),
                table=broken[0][0],
            )
        )


def _table_info(table: str) -> str:
    return f"PRAGMA table_info({_quoted(table)})"


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
