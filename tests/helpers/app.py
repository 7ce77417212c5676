"""The app in-process, and clerks that drive it as a browser would."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from litestar import Litestar

from purchasing.app import create_app
from purchasing.serving.chunks import ChunkWriter
from purchasing.serving.front import Front
from purchasing.settings import Settings

# argon2's cheapest parameters: a sign-in costs a quarter of a second of CPU with the real ones,
# and the tests sign in over a thousand times. The hostile-load tests keep the real ones.
TEST_PASSWORDS = "CHEAPEST"


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
        headers = dict(kwargs.pop("headers", {}))
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
    """The app on `database_url`, keeping its files under `tmp_path`, its streams written as
    `purchasing serve` writes them (straight to the connection, when served by uvicorn)."""
    settings = Settings(
        database_url=database_url,
        secret_key="test-secret-key",
        var_dir=tmp_path,
        **{"password_profile": TEST_PASSWORDS, **overrides},
    )
    return create_app(settings, direct_writers=ChunkWriter.of)


class LiveApp:
    """The app served by uvicorn inside the test's own event loop, on a free port, as
    `purchasing serve` serves it (behind the front that serves event streams)."""

    def __init__(self, app: Litestar) -> None:
        self.app = app
        # Named TCP so that asyncio turns Nagle off on each connection: on a bare socket()
        # (protocol 0) every kept-alive request of a test waited ~40 ms for a delayed ACK.
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self.socket.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.socket.getsockname()[1]}"
        front = Front(app, direct=True)
        # Idle connections are kept a minute: a test's clients may wait on each other (logins
        # one after another) longer than uvicorn's 5 s, and a POST racing the server's close of
        # its connection fails as a browser's would not (browsers retry it on a new one).
        config = uvicorn.Config(
            front, log_level="warning", timeout_graceful_shutdown=2, timeout_keep_alive=60
        )
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


async def signed_in(live: LiveApp, username: str) -> Clerk:
    """A clerk of its own (cookies and all) on `live`, signed in as the demo's `username`."""
    clerk = Clerk(live.client())
    await clerk.login(username)
    return clerk
