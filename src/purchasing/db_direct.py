"""Write transactions run straight on the database driver, for the one hot path: a status change.

Everything else goes through Piccolo, which builds each query anew and, on SQLite, opens a
connection (and a thread) per transaction and hops to that thread for every statement. Here a
transaction is a *script*, a generator that yields `(Statement, params)` and is sent back the
rows; `run` runs it in one write transaction:

- on SQLite, the whole script runs on the writer's own thread, over one connection kept open:
  one thread hop per transaction, `BEGIN IMMEDIATE` so writers queue as Piccolo's do;
- on PostgreSQL, statement by statement on a pooled asyncpg connection (prepared statements
  cached by asyncpg), in one transaction.

A script that raises rolls its transaction back, and the exception reaches the caller.
Statements are written once with `:name` parameters, which sqlite3 reads as they are; asyncpg
gets them numbered (`$1`, `$2`, ...) when this module loads."""

from __future__ import annotations

import re
from collections.abc import Generator, Mapping
from typing import Any, TypeVar, cast

from piccolo.engine.postgres import PostgresEngine

from purchasing.db import SharedReaderSQLiteEngine, current_engine

T = TypeVar("T")
Rows = list[dict[str, Any]]
Script = Generator[tuple["Statement", Mapping[str, Any]], Rows, T]
_PARAMETER = re.compile(r"(?<![:\w]):([a-z_]+)")


class Statement:
    """One SQL statement, with `:name` parameters, for both engines (or a text for each; an
    empty text is a statement that engine does not need)."""

    def __init__(self, sqlite: str, postgres: str | None = None) -> None:
        self.sqlite = sqlite
        self.names: list[str] = []
        self.postgres = _PARAMETER.sub(self._number, sqlite if postgres is None else postgres)

    def _number(self, match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in self.names:
            self.names.append(name)
        return f"${self.names.index(name) + 1}"

    def postgres_args(self, params: Mapping[str, Any]) -> list[Any]:
        return [params[name] for name in self.names]


async def _run_postgres(engine: PostgresEngine, script: Script[T]) -> T:
    pool = engine.pool
    connection = await (pool.acquire() if pool else engine.get_new_connection())
    try:
        async with connection.transaction():
            rows: Rows | None = None
            try:
                while True:
                    statement, params = script.send(rows)  # type: ignore[arg-type]
                    records = await connection.fetch(
                        statement.postgres, *statement.postgres_args(params)
                    )
                    rows = [dict(record) for record in records]
            except StopIteration as done:
                return done.value  # type: ignore[no-any-return]
    finally:
        await (pool.release(connection) if pool else connection.close())


async def run(script: Script[T]) -> T:
    """Run `script` in one write transaction of the current database; what it returns."""
    engine = current_engine()
    if isinstance(engine, PostgresEngine):
        return await _run_postgres(engine, script)
    if not isinstance(engine, SharedReaderSQLiteEngine):
        raise TypeError(f"db_direct runs on SQLite or PostgreSQL, not {type(engine).__name__}")
    return cast(T, await engine.writer.run(script))


# A status change (`services/status.py`), then its event (`live/outbox.py`).
# The purchase, with what its table row shows (supplier, farm and coop names, date, totals, and
# the creation stamp its status control carries).
_FIND = (
    "SELECT p.id, p.invoice_number, p.company, p.farm, p.status, p.version, p.purchase_date, "
    "p.grand_total, p.subtotal, p.head_count, p.created_at, s.name AS supplier_name, "
    "f.name AS farm_name, "
    "c.name AS coop_name "
    "FROM purchase p JOIN partner s ON s.id = p.supplier JOIN farm f ON f.id = p.farm "
    "LEFT JOIN coop c ON c.id = p.coop "
    "WHERE p.id = :id AND p.kind = :kind"
)
_SCOPES = {
    "all": ("", ""),
    "company": (" AND p.company = :company", " AND p.company = :company"),
    "farms": (" AND p.farm IN (SELECT value FROM json_each(:farms))", " AND p.farm = ANY(:farms)"),
}
# The purchase if the actor's scope holds it, locked until the end of the transaction (SQLite's
# write transactions already run one at a time); by scope: all, company or farms (a list).
FIND_PURCHASE = {
    name: Statement(_FIND + sqlite, _FIND + postgres + " FOR UPDATE OF p")
    for name, (sqlite, postgres) in _SCOPES.items()
}
LAST_MOVE = Statement(
    "SELECT to_status, changed_by, changed_at FROM status_history "
    "WHERE purchase = :id ORDER BY id DESC LIMIT 1"
)
MOVE = Statement(
    "UPDATE purchase SET status = :status, version = version + 1, updated_by = :actor, "
    "updated_at = :now WHERE id = :id AND version = :version RETURNING version"
)
RECORD_MOVE = Statement(
    "INSERT INTO status_history "
    "(purchase, from_status, to_status, notes, changed_by, changed_at, client_ip, user_agent) "
    "VALUES (:id, :from_status, :status, :notes, :actor, :now, :client_ip, :user_agent)"
)
# SQLite needs no lock: the write transaction holds the database's.
LOCK_OUTBOX = Statement("", "SELECT pg_advisory_xact_lock(:lock)")
INSERT_EVENT = Statement(
    "INSERT INTO outbox_event (id, type, kind, purchase, company, farm, payload, created_at) "
    "VALUES ((SELECT COALESCE(MAX(id), 0) + 1 FROM outbox_event), "
    ":type, :kind, :purchase, :company, :farm, :payload, :created_at) RETURNING id"
)
