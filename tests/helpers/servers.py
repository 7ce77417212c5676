"""The real servers some tests need: PostgreSQL and Redis on this machine, a private Redis to stop.

A missing server skips those tests on a developer's machine and fails them under `CI=true`."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import sqlite3
import ssl
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import httpx
import pytest
import redis

from purchasing import db
from purchasing.services.demo_data import MAIN
from tests.helpers.app import TEST_PASSWORDS
from tests.helpers.process import ServerProcess

POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
T = TypeVar("T")


def missing(what: str, error: object) -> None:
    """Fail under CI, where every server must be present; skip elsewhere."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{what} is required in CI and unavailable: {error}")
    pytest.skip(f"{what} unavailable: {error}")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def database_url(name: str) -> str:
    return f"{POSTGRES_URL.rsplit('/', 1)[0]}/{name}"


async def create_database(template: str | None = None) -> str:
    """A new PostgreSQL database (a copy of `template` if given); returns its URL."""
    try:
        admin = await asyncpg.connect(POSTGRES_URL, timeout=5)
    except (OSError, asyncpg.PostgresError) as error:
        missing(f"PostgreSQL at {POSTGRES_URL}", error)
        raise
    name = f"purchasing_test_{uuid.uuid4().hex[:12]}"
    copy = f' TEMPLATE "{template}"' if template else ""
    try:
        await admin.execute(f'CREATE DATABASE "{name}"{copy}')
    finally:
        await admin.close()
    return database_url(name)


async def drop_database(url: str) -> None:
    admin = await asyncpg.connect(POSTGRES_URL, timeout=5)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')
    finally:
        await admin.close()


@asynccontextmanager
async def throwaway_database(template: str | None = None) -> AsyncIterator[str]:
    """A new PostgreSQL database for the length of the block."""
    url = await create_database(template)
    try:
        yield url
    finally:
        await drop_database(url)


def run_async(work: Coroutine[Any, Any, T]) -> T:
    """Run `work` on an event loop of its own in another thread, for synchronous tests such as
    Playwright's, whose thread must not start a loop."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, work).result()


def shared_redis() -> str:
    """The machine's Redis, for tests that only publish and subscribe."""
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as error:
        missing(f"Redis at {REDIS_URL}", error)
    return REDIS_URL


class PrivateRedis:
    """A redis-server of the test's own on a free port, so that it can be stopped and restarted
    without disturbing anyone else."""

    def __init__(self, workdir: Path) -> None:
        self.binary = shutil.which("redis-server")
        if self.binary is None:
            missing("redis-server (to run a private Redis)", "not on PATH")
        self.port = free_port()
        self.workdir = workdir
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        assert self.binary is not None
        options = ["--bind", "127.0.0.1", "--port", str(self.port), "--save", ""]
        options += ["--appendonly", "no", "--dir", str(self.workdir)]
        self.process = subprocess.Popen([self.binary, *options], stdout=subprocess.DEVNULL)
        client = redis.Redis(port=self.port, socket_connect_timeout=1)
        for _ in range(200):
            try:
                client.ping()
                return
            except redis.ConnectionError:
                if self.process.poll() is not None:
                    raise RuntimeError("redis-server exited at start") from None
                time.sleep(0.05)  # polling for readiness
        raise RuntimeError("redis-server did not answer")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
            self.process = None


@contextmanager
def postgres_and_redis(workdir: Path, template: str | None = None) -> Iterator[tuple[str, str]]:
    """A new PostgreSQL database (a copy of `template` if given) and a private Redis, for
    synchronous tests (Playwright's): their URLs, both gone after the block."""
    url = run_async(create_database(template))
    try:
        with private_redis(workdir) as redis:
            yield url, redis.url
    finally:
        run_async(drop_database(url))


@contextmanager
def private_redis(workdir: Path) -> Iterator[PrivateRedis]:
    server = PrivateRedis(workdir)
    server.start()
    try:
        yield server
    finally:
        server.stop()


PURCHASING = [sys.executable, "-m", "purchasing"]


class AppServer(ServerProcess):
    """`purchasing serve` in a subprocess of its own, its output in `<name>.log`."""

    STARTUP_TIMEOUT_S = 30

    def __init__(self, directory: Path, env: dict[str, str], name: str = "server") -> None:
        super().__init__(name, free_port(), directory / f"{name}.log")
        self.directory = directory
        self.env = {
            **os.environ,
            "VAR_DIR": str(directory),
            "SECRET_KEY": "test-secret-key",
            "PASSWORD_PROFILE": TEST_PASSWORDS,
            "PYTHONUNBUFFERED": "1",
            **env,
        }
        self.verify: ssl.SSLContext | bool = True  # what httpx trusts for an https:// url

    def command(self, *args: str) -> None:
        subprocess.run(
            [*PURCHASING, *args],
            env=self.env,
            check=True,
            capture_output=True,
        )

    def serve_command(self, *serve_args: str) -> list[str]:
        return [*PURCHASING, "serve", "--port", str(self.port), *serve_args]

    def start(self, *serve_args: str) -> None:
        self.spawn(self.serve_command(*serve_args), self.env)
        deadline = time.monotonic() + self.STARTUP_TIMEOUT_S
        while time.monotonic() < deadline:
            if not self.alive():
                raise RuntimeError(f"server exited early:\n{self.log()}")
            try:
                if httpx.get(f"{self.url}/login", timeout=1, verify=self.verify).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)  # polling for readiness, not waiting for an effect
        raise RuntimeError(f"server did not start in {self.STARTUP_TIMEOUT_S} s:\n{self.log()}")

    def health(self) -> dict[str, Any]:
        """GET /health: what this process holds (its open event streams among it)."""
        response = httpx.get(f"{self.url}/health", timeout=5, verify=self.verify)
        response.raise_for_status()
        return dict(response.json())


@asynccontextmanager
async def served(server: AppServer, *serve_args: str) -> AsyncIterator[AppServer]:
    """`server` started, and this test's own database engine open beside it; both stopped
    afterwards."""
    server.start(*serve_args)
    engine = db.current_engine()
    await db.start(engine)
    try:
        yield server
    finally:
        server.stop()
        await db.stop(engine)


class LiveServer(AppServer):
    """`purchasing serve` in a subprocess, on a migrated and seeded SQLite database of its own."""

    def __init__(self, directory: Path) -> None:
        self.database_path = directory / "e2e.sqlite3"
        super().__init__(directory, {"DATABASE_URL": f"sqlite:///{self.database_path}"})
        self.used: set[int] = set()

    def query(self, sql: str, *args: object) -> list[tuple[Any, ...]]:
        """Read (or, for test set-up only, write) the server's database directly."""
        with sqlite3.connect(self.database_path) as connection:
            return connection.execute(sql, args).fetchall()

    def newest_event(self) -> int:
        return int(self.query("SELECT max(id) FROM outbox_event")[0][0])

    def purchase_id(self, invoice: str) -> int:
        return int(self.query("SELECT id FROM purchase WHERE invoice_number = ?", invoice)[0][0])

    def fresh_pair(self, kind: str) -> tuple[str, str, str]:
        """Two untouched drafts of `kind` from one supplier, and that supplier's name: a search
        for it shows both on one page, whatever other tests used."""
        rows = self.query(
            "SELECT purchase.id, invoice_number, partner.name FROM purchase"
            " JOIN company ON company.id = purchase.company"
            " JOIN partner ON partner.id = purchase.supplier"
            " WHERE purchase.kind = ? AND purchase.status = 'draft' AND company.name = ?"
            " ORDER BY purchase.id",
            kind,
            MAIN.name,
        )
        unused: dict[str, list[tuple[int, str]]] = {}
        for purchase_id, invoice, supplier in rows:
            if purchase_id not in self.used:
                unused.setdefault(supplier, []).append((purchase_id, invoice))
        for supplier, drafts in unused.items():
            if len(drafts) >= 2:
                (first_id, first), (second_id, second) = drafts[:2]
                self.used |= {first_id, second_id}
                return first, second, supplier
        raise LookupError(f"no two untouched draft {kind} purchases of one supplier left")

    def fresh_purchase(self, kind: str) -> str:
        """The invoice of a draft purchase of `kind`, of the demo's main company (the one the
        demo's clerks work for), that no other test has touched."""
        rows = self.query(
            "SELECT purchase.id, invoice_number FROM purchase"
            " JOIN company ON company.id = purchase.company"
            " WHERE kind = ? AND status = 'draft' AND company.name = ? ORDER BY purchase.id",
            kind,
            MAIN.name,
        )
        for purchase_id, invoice in rows:
            if purchase_id not in self.used:
                self.used.add(purchase_id)
                return str(invoice)
        raise LookupError(f"no untouched draft {kind} purchase left")


L = TypeVar("L", bound=LiveServer)


def serving(server: L, per_kind: int | None = None) -> Iterator[L]:
    """For a fixture: `server` on a copy of the run's migrated database, seeded with `per_kind`
    purchases of each kind (none when None), serving until the fixture ends."""
    from tests.helpers.seeded import sqlite_copy  # which builds its databases with this module

    sqlite_copy(server.database_path, per_kind)
    server.start()
    yield server
    server.stop()
