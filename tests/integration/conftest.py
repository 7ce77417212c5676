"""The app in-process on a fresh copy of the demo database (on each engine), and clerks to drive
it."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from litestar import Litestar

from purchasing.app import create_app
from purchasing.domain.actor import Actor
from purchasing.services.demo_data import MAIN
from purchasing.services.users import load_actor
from purchasing.settings import Settings
from purchasing.tables import AppUser, Company, Purchase
from purchasing.web.front import Front


class Clerk:
    """A browser-like client: keeps cookies, sends the CSRF header as htmx does."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def login(self, username: str, password: str | None = None) -> Any:
        await self.client.get("/login")
        return await self.post(
            "/login", {"username": username, "password": password or f"{username}-demo"}
        )

    async def get(
        self, url: str, htmx: bool = False, target: str | None = None, **kwargs: Any
    ) -> Any:
        headers = kwargs.pop("headers", {})
        if htmx:
            headers["HX-Request"] = "true"
        if target:
            headers["HX-Target"] = target
        kwargs.setdefault("follow_redirects", False)
        return await self.client.get(url, headers=headers, **kwargs)

    async def post(
        self,
        url: str,
        data: Any,
        htmx: bool = False,
        csrf: bool = True,
        headers: dict[str, str] | None = None,
    ) -> Any:
        headers = dict(headers or {})
        if csrf:
            headers["x-csrftoken"] = self.client.cookies.get("csrftoken", "")
        if htmx:
            headers["HX-Request"] = "true"
        return await self.client.post(url, data=data, headers=headers, follow_redirects=False)


def make_app(tmp_path: Path, database_url: str, **overrides: Any) -> Litestar:
    """The app on `database_url`, keeping its files under `tmp_path`."""
    settings = Settings(
        database_url=database_url,
        secret_key="test-secret-key",
        var_dir=tmp_path,
        **overrides,
    )
    return create_app(settings)


@pytest.fixture
def app(tmp_path: Path, database: str) -> Litestar:
    """The app (not started) on this test's demo database."""
    return make_app(tmp_path, database)


class LiveApp:
    """The app served by uvicorn inside the test's own event loop, on a free port, as
    `purchasing serve` serves it (behind the front that serves event streams)."""

    def __init__(self, app: Litestar) -> None:
        self.app = app
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.socket.getsockname()[1]}"
        config = uvicorn.Config(Front(app), log_level="warning", timeout_graceful_shutdown=2)
        self.server = uvicorn.Server(config)
        self.task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> LiveApp:
        self.task = asyncio.create_task(self.server.serve(sockets=[self.socket]))
        while not self.server.started:
            if self.task.done():
                self.task.result()
            await asyncio.sleep(0.01)  # polling for readiness, not waiting for an effect
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.app.state.hub.close_streams()
        self.server.should_exit = True
        if self.task:
            await self.task

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.url, timeout=10)


@pytest.fixture
async def live(app: Litestar) -> AsyncIterator[LiveApp]:
    """The app served on a free port for the length of the test."""
    async with LiveApp(app) as served:
        yield served


@pytest.fixture
async def tuned(
    tmp_path: Path, database: str, request: pytest.FixtureRequest
) -> AsyncIterator[LiveApp]:
    """A server with settings small enough to observe in a test (parametrize indirectly)."""
    async with LiveApp(make_app(tmp_path, database, **request.param)) as served:
        yield served


@pytest.fixture
async def client(live: LiveApp) -> AsyncIterator[httpx.AsyncClient]:
    async with live.client() as http:
        yield http


@pytest.fixture
def anonymous(client: httpx.AsyncClient) -> Clerk:
    return Clerk(client)


@pytest.fixture
async def admin(client: httpx.AsyncClient) -> Clerk:
    clerk = Clerk(client)
    await clerk.login("admin")
    return clerk


async def main_company() -> int:
    """The id of the demo's main company (the one the demo's first users work for)."""
    row = await Company.select(Company.id).where(Company.name == MAIN.name).first()
    assert row is not None
    return int(row["id"])


async def a_purchase(kind: str, status: str, **where: Any) -> dict[str, Any]:
    """A demo purchase of `kind` in `status`, of the main company unless `company` is given."""
    where.setdefault("company", await main_company())
    query = Purchase.select().where((Purchase.kind == kind) & (Purchase.status == status))
    for name, value in where.items():
        query = query.where(getattr(Purchase, name) == value)
    row = await query.order_by(Purchase.id).first()
    assert row is not None, f"no demo {kind} purchase in {status}"
    return dict(row)


async def user_id(username: str) -> int:
    row = await AppUser.select(AppUser.id).where(AppUser.username == username).first()
    assert row is not None
    return int(row["id"])


async def actor_named(username: str) -> Actor:
    """The demo user `username` as the rules see them."""
    actor = await load_actor(await user_id(username))
    assert actor is not None
    return actor


# For tests whose behaviour does not depend on the database engine: they run on SQLite alone
# (the engine-dependent ones, such as concurrent writes, run on both).
SQLITE_ONLY = pytest.mark.parametrize("databases", ["sqlite"], indirect=True)
