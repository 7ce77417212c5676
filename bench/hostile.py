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


EMPTY_FIELDS = b"a&" * (4_900_000)  # 9.8 MB of empty fields, the body that once froze the loop


async def huge_form(port: int, path: str, headers: dict[str, str], timeout_s: float = 60) -> int:
    """POST `EMPTY_FIELDS` to `path` on a connection of its own, the body written while the
    answer is awaited (a server may answer before it is all sent); the answer's status, or 0 when
    the connection ended without one."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    head = [f"POST {path} HTTP/1.1", f"host: 127.0.0.1:{port}"]
    head += [f"{name}: {value}" for name, value in headers.items()]
    head += ["content-type: application/x-www-form-urlencoded"]
    head += [f"content-length: {len(EMPTY_FIELDS)}", "connection: close"]

    async def send() -> None:
        try:
            writer.write(("\r\n".join(head) + "\r\n\r\n").encode())
            for start in range(0, len(EMPTY_FIELDS), 64 * 1024):
                writer.write(EMPTY_FIELDS[start : start + 64 * 1024])
                await writer.drain()
        except (ConnectionError, OSError):
            pass  # the server answered and closed before the body was all sent

    sending = asyncio.create_task(send())
    try:
        line = await asyncio.wait_for(reader.readline(), timeout_s)
        return int(line.split()[1]) if line.startswith(b"HTTP/1.1 ") else 0
    finally:
        sending.cancel()
        writer.close()


async def huge_forms(
    port: int, targets: list[tuple[str, dict[str, str]]], each: int = 3
) -> Counter[tuple[str, int]]:
    """`each` huge forms to every (path, headers) target, all at once; (path, status) counted."""
    sent = [
        (path, huge_form(port, path, headers)) for path, headers in targets for _ in range(each)
    ]
    statuses = await asyncio.gather(*(work for _, work in sent))
    return Counter((path, status) for (path, _), status in zip(sent, statuses, strict=True))
