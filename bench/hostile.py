"""Hostile traffic, for the hostile-load tests and the login-burst scenario: loopback only, with
bounded counts and timeouts."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections import Counter

from bench.httpclient import Connection

# Where a visitor without a session goes: pages, a fragment, the stream, health, a form post.
JUNK_TARGETS = (
    ("GET", "/login"),
    ("GET", "/purchases/supply"),
    ("GET", "/purchases/feed?page=2"),
    ("GET", "/events"),
    ("GET", "/health"),
    ("POST", "/logout"),
)


async def csrf_token(port: int) -> str:
    """A CSRF cookie's token, as a browser gets it with the login page."""
    connection = Connection(port)
    try:
        return (await connection.request("GET", "/login")).set_cookies()["csrftoken"]
    finally:
        connection.close()


async def login_burst(
    port: int, attempts: int = 100, client: str = "", timeout_s: float = 120
) -> Counter[int]:
    """`attempts` failed logins sent at once from one address (this machine's, or `client` as
    a trusted proxy would name it in X-Forwarded-For), each on its own connection and under a
    made-up username of its own; the statuses they got, counted."""
    token = await csrf_token(port)
    headers = {"cookie": f"csrftoken={token}", "x-csrftoken": token}
    if client:
        headers["x-forwarded-for"] = client

    async def one(n: int) -> int:
        connection = Connection(port, timeout_s=timeout_s)
        form = {"username": f"nobody-{n}-{secrets.token_hex(4)}", "password": "wrong-password"}
        try:
            return (await connection.request("POST", "/login", headers, form=form)).status
        finally:
            connection.close()

    return Counter(await asyncio.gather(*(one(n) for n in range(attempts))))


async def junk_cookies(port: int, requests: int = 10_000, connections: int = 20) -> Counter[int]:
    """`requests` requests, each with a made-up `session` cookie, spread over JUNK_TARGETS and
    over `connections` kept-alive connections; the statuses they got, counted."""
    statuses: Counter[int] = Counter()

    async def worker(share: range) -> None:
        connection = Connection(port)
        try:
            for n in share:
                method, path = JUNK_TARGETS[n % len(JUNK_TARGETS)]
                cookie = {"cookie": f"session={secrets.token_hex(32)}"}
                statuses[(await connection.request(method, path, cookie)).status] += 1
        finally:
            connection.close()

    await asyncio.gather(*(worker(range(c, requests, connections)) for c in range(connections)))
    return statuses


async def probe_health(port: int, until: asyncio.Event, every_s: float = 0.02) -> list[float]:
    """`GET /health` every `every_s` until `until` is set; each answer's time, in seconds."""
    connection = Connection(port, timeout_s=60)
    times = []
    try:
        while not until.is_set():
            started = time.perf_counter()
            await connection.request("GET", "/health")
            times.append(time.perf_counter() - started)
            await asyncio.sleep(every_s)
    finally:
        connection.close()
    return times
