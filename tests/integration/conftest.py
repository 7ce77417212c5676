"""The app in-process on a fresh copy of a migrated database, and clerks to drive it."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from purchasing.app import create_app
from purchasing.settings import Settings
from purchasing.tables import AppUser, Purchase


class Clerk:
    """A browser-like client: keeps cookies, sends the CSRF header as htmx does."""

    def __init__(self, client: AsyncTestClient[Litestar]) -> None:
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

    async def post(self, url: str, data: Any, htmx: bool = False, csrf: bool = True) -> Any:
        headers = {}
        if csrf:
            headers["x-csrftoken"] = self.client.cookies.get("csrftoken", "")
        if htmx:
            headers["HX-Request"] = "true"
        return await self.client.post(url, data=data, headers=headers, follow_redirects=False)


def make_app(tmp_path: Path, template: Path) -> Litestar:
    path = tmp_path / "db.sqlite3"
    shutil.copy(template, path)
    settings = Settings(
        database_url=f"sqlite:///{path}", secret_key="test-secret-key", var_dir=tmp_path
    )
    return create_app(settings)


@pytest.fixture
def app(tmp_path: Path, demo_db_file: Path) -> Litestar:
    return make_app(tmp_path, demo_db_file)


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(app=app) as test_client:
        yield test_client


@pytest.fixture
def anonymous(client: AsyncTestClient[Litestar]) -> Clerk:
    return Clerk(client)


@pytest.fixture
async def admin(client: AsyncTestClient[Litestar]) -> Clerk:
    clerk = Clerk(client)
    await clerk.login("admin")
    return clerk


async def a_purchase(kind: str, status: str, **where: Any) -> dict[str, Any]:
    """A demo purchase of `kind` in `status`."""
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
