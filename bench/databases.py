"""The bench's databases: one migrated and seeded SQLite file copied for every app instance, and
a throwaway PostgreSQL database (`purchasing_bench_<random>`) dropped at the end.

Purchases and their versions are read straight from the database, as the brief allows: the
status changes then go through the app's real HTTP route."""

from __future__ import annotations

import secrets
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from bench.cycle import OPEN_CYCLE as OPEN_STATUSES
from bench.servers import app_env, run_command
from purchasing.services.demo_data import MAIN

POSTGRES_ADMIN_URL = "postgres://postgres@127.0.0.1:5432/postgres"
OPEN_PURCHASES_SQL = (
    "SELECT p.id, p.status, p.version FROM purchase p JOIN company c ON c.id = p.company "
    "WHERE c.name = {name} AND p.kind = 'supply' AND p.status IN ({statuses}) ORDER BY p.id"
)

Purchase = list[int | str]  # [id, status, version], mutable: the writers update it


async def prepare(url: str, var_dir: Path, per_kind: int) -> None:
    """`purchasing migrate` then `purchasing seed-demo` against `url`."""
    _make_dir(var_dir)
    env = app_env(var_dir, url)
    await run_command(["-m", "purchasing", "migrate"], env)
    await run_command(["-m", "purchasing", "seed-demo", "--per-kind", str(per_kind)], env)


def _make_dir(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True)


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def copy_sqlite(template: Path, target: Path) -> Path:
    """A consistent copy of the seeded database (SQLite's backup API, WAL included)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with closing(sqlite3.connect(template)) as source, closing(sqlite3.connect(target)) as copy:
        source.backup(copy)
        copy.execute("PRAGMA journal_mode=WAL")
    return target


def open_purchases_sqlite(path: Path) -> list[Purchase]:
    marks = ", ".join("?" for _ in OPEN_STATUSES)
    sql = OPEN_PURCHASES_SQL.format(name="?", statuses=marks)
    with closing(sqlite3.connect(path, timeout=30)) as connection:
        rows = connection.execute(sql, (MAIN.name, *OPEN_STATUSES)).fetchall()
    return [[int(i), str(s), int(v)] for i, s, v in rows]


@dataclass
class PostgresDatabase:
    """A throwaway database on the local PostgreSQL server (user postgres, trust auth)."""

    url: str
    name: str

    @classmethod
    async def create(cls) -> PostgresDatabase:
        """Raises OSError or asyncpg's errors when PostgreSQL is not reachable."""
        import asyncpg

        name = f"purchasing_bench_{secrets.token_hex(6)}"
        admin = await asyncpg.connect(POSTGRES_ADMIN_URL, timeout=5)
        try:
            await admin.execute(f'CREATE DATABASE "{name}"')
        finally:
            await admin.close()
        return cls(POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}", name)

    async def drop(self) -> None:
        import asyncpg

        admin = await asyncpg.connect(POSTGRES_ADMIN_URL, timeout=5)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        finally:
            await admin.close()

    async def open_purchases(self) -> list[Purchase]:
        import asyncpg

        statuses = ", ".join(f"${i + 2}" for i in range(len(OPEN_STATUSES)))
        sql = OPEN_PURCHASES_SQL.format(name="$1", statuses=statuses)
        connection = await asyncpg.connect(self.url, timeout=5)
        try:
            rows = await connection.fetch(sql, MAIN.name, *OPEN_STATUSES)
        finally:
            await connection.close()
        return [[int(r["id"]), str(r["status"]), int(r["version"])] for r in rows]
