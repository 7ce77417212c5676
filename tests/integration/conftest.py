"""The app in-process on a fresh copy of the demo database (on each engine), and clerks to drive
it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from litestar import Litestar

from tests.helpers.app import Clerk, LiveApp, make_app


@pytest.fixture
def app(tmp_path: Path, database: str) -> Litestar:
    """The app (not started) on this test's demo database."""
    return make_app(tmp_path, database)


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
