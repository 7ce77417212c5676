"""What every scenario works with: a temporary directory, the prepared databases, the load
generator, and a way to start app instances, the floor and the peers; all undone on exit."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from bench import databases
from bench.config import Mode
from bench.databases import PostgresDatabase, Purchase
from bench.driver import LoadGenerator
from bench.httpclient import Login, login
from bench.report import Outcome
from bench.servers import BenchServer, Processes

USERNAME, PASSWORD = "supervisor", "supervisor-demo"


STARTED = time.monotonic()


def say(message: str) -> None:
    """Progress on stdout as the bench goes (the tables come at the end)."""
    print(f"  [{time.monotonic() - STARTED:5.1f} s] {message}", flush=True)


@dataclass
class App:
    """One running `purchasing serve` with a logged-in session."""

    server: BenchServer
    login: Login
    database: str  # "sqlite" or "postgres"
    read_purchases: Callable[[], Awaitable[list[Purchase]]]

    async def health(self) -> dict[str, Any]:
        return await self.server.get_json("/health")

    async def open_purchases(self, needed: int) -> list[Purchase]:
        purchases = await self.read_purchases()
        if len(purchases) < needed:
            raise RuntimeError(
                f"{len(purchases)} open supply purchases, {needed} needed: raise --per-kind"
            )
        return purchases


class Harness:
    def __init__(self, mode: Mode, skip_postgres: bool = False) -> None:
        self.mode = mode
        self.workdir = Path(tempfile.mkdtemp(prefix="purchasing-bench-"))
        self.processes = Processes(self.workdir)
        self.loadgen = LoadGenerator(self.workdir / "loadgen.log")
        self.sqlite_template = self.workdir / "template" / "bench.sqlite3"
        self.postgres: PostgresDatabase | None = None
        self.postgres_skipped = "not asked for" if skip_postgres else ""
        self.failed = False
        # What a long scenario has finished so far, reported should the bench be interrupted.
        self.partial: dict[str, Outcome] = {}
        self._names: dict[str, int] = {}

    async def __aenter__(self) -> Harness:
        try:
            hello = await self.loadgen.start()
            say(f"load generator ready (pid {hello['pid']}, {hello['open_files_limit']} files)")
            await asyncio.gather(self._prepare_sqlite(), self._prepare_postgres())
        except BaseException:
            await self.close(failed=True)
            raise
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        interrupted = isinstance(error, asyncio.CancelledError | KeyboardInterrupt)
        await self.close(failed=self.failed or (error is not None and not interrupted))

    async def close(self, failed: bool) -> None:
        """Stop everything and drop the PostgreSQL database, even when cancelled half-way."""
        try:
            await asyncio.shield(self.loadgen.stop())
        except BaseException:
            self.loadgen.kill()
        self.processes.stop_all()
        if self.postgres is not None:
            database, self.postgres = self.postgres, None
            try:
                await asyncio.shield(database.drop())
            except BaseException as error:
                print(f"could not drop PostgreSQL database {database.name}: {error}")
        if failed:
            print(f"bench files and server logs kept in {self.workdir}")
        else:
            shutil.rmtree(self.workdir, ignore_errors=True)

    async def _prepare_sqlite(self) -> None:
        url = databases.sqlite_url(self.sqlite_template)
        await databases.prepare(url, self.sqlite_template.parent, self.mode.per_kind)
        say(f"SQLite database migrated and seeded (--per-kind {self.mode.per_kind})")

    async def _prepare_postgres(self) -> None:
        if self.postgres_skipped:
            return
        try:
            self.postgres = await PostgresDatabase.create()
        except Exception as error:
            self.postgres_skipped = f"PostgreSQL at 127.0.0.1:5432 unreachable ({error})"
            say(f"{self.postgres_skipped}: the PostgreSQL rows will be skipped")
            return
        var_dir = self.workdir / "postgres"
        await databases.prepare(self.postgres.url, var_dir, self.mode.per_kind)
        say(f"PostgreSQL database {self.postgres.name} migrated and seeded")

    def _name(self, prefix: str) -> str:
        self._names[prefix] = self._names.get(prefix, 0) + 1
        return f"{prefix}-{self._names[prefix]}"

    async def start_apps(self, count: int, database: str = "sqlite", **settings: str) -> list[App]:
        """`count` app instances started together, each with its own copy of the database (or
        the one PostgreSQL database), its own VAR_DIR, the app `settings` given (environment
        variables) and a logged-in session."""
        apps_and_readers = []
        reader: Callable[[], Awaitable[list[Purchase]]]
        for _ in range(count):
            name = self._name(f"app-{database}")
            var_dir = self.workdir / name
            if database == "postgres":
                if self.postgres is None:
                    raise RuntimeError(f"no PostgreSQL database: {self.postgres_skipped}")
                url, reader = self.postgres.url, self.postgres.open_purchases
            else:
                path = databases.copy_sqlite(self.sqlite_template, var_dir / "bench.sqlite3")
                url, reader = databases.sqlite_url(path), _sqlite_reader(path)
            server = self.processes.app(name, var_dir, url, **settings)
            apps_and_readers.append((server, reader))
        servers = [server for server, _ in apps_and_readers]
        await asyncio.gather(*(s.wait_healthy() for s in servers))
        logins = await asyncio.gather(*(login(s.port, USERNAME, PASSWORD) for s in servers))
        return [
            App(server, session, database, reader)
            for (server, reader), session in zip(apps_and_readers, logins, strict=True)
        ]

    async def start_floor_and_peers(self) -> tuple[BenchServer, BenchServer, BenchServer]:
        """The floor, the Litestar peer and the sse-starlette peer, started together."""
        floor = self.processes.floor(self._name("floor"))
        peer = self.processes.peer(self._name("peer"))
        peer_starlette = self.processes.peer_starlette(self._name("peer-starlette"))
        await asyncio.gather(*(s.wait_healthy() for s in (floor, peer, peer_starlette)))
        return floor, peer, peer_starlette

    def stop(self, servers: Sequence[BenchServer | App]) -> None:
        self.processes.stop([s.server if isinstance(s, App) else s for s in servers])


def _sqlite_reader(path: Path) -> Callable[[], Awaitable[list[Purchase]]]:
    async def read() -> list[Purchase]:
        return await asyncio.to_thread(databases.open_purchases_sqlite, path)

    return read
