"""Sessions: a new id at login, cookie flags, idle expiry, and login attempts rate-limited."""

from __future__ import annotations

import asyncio
import threading
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from redis.asyncio import Redis as AsyncRedis

from purchasing.domain.actor import Actor
from purchasing.services import users
from purchasing.web import sessions
from purchasing.web.sessions import COOKIE, STORE
from purchasing.web.throttle import LoginThrottle, RedisCounts
from tests.helpers.app import Clerk, LiveApp, make_app
from tests.helpers.demo import a_purchase
from tests.helpers.servers import shared_redis

IDLE_MINUTES = 480


def session_cookie(response: object) -> str:
    headers = getattr(response, "headers")  # noqa: B009 - httpx and Litestar responses alike
    found = [c for c in headers.get_list("set-cookie") if c.startswith(f"{COOKIE}=")]
    assert len(found) == 1, found
    return str(found[0])


async def test_login_issues_a_new_session_id_and_forgets_the_old_one(
    live: LiveApp, anonymous: Clerk
) -> None:
    store = live.app.stores.get(STORE)
    planted = "f" * 64  # as if someone had put their session id into this browser beforehand
    await store.set(planted, b'{"planted": true}', expires_in=600)
    anonymous.client.cookies.set(COOKIE, planted)
    response = await anonymous.login("admin")
    assert response.status_code == 303
    issued = session_cookie(response).split(";")[0].removeprefix(f"{COOKIE}=")
    assert issued not in (planted, "", "null")
    assert await store.get(planted) is None
    assert await store.get(issued) is not None


async def test_the_session_cookie_is_httponly_lax_and_expires_when_idle(anonymous: Clerk) -> None:
    cookie = session_cookie(await anonymous.login("admin")).lower()
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    assert f"max-age={IDLE_MINUTES * 60}" in cookie
    assert "secure" not in cookie  # served over plain HTTP here


def test_over_https_cookies_are_secure(tmp_path: Path, database: str) -> None:
    app: Litestar = make_app(tmp_path, database)
    with TestClient(app=app, base_url="https://purchasing.example") as client:
        client.get("/login")
        token = client.cookies["csrftoken"]
        response = client.post(
            "/login",
            data={"username": "admin", "password": "admin-demo"},
            headers={"x-csrftoken": token},
            follow_redirects=False,
        )
    assert response.status_code == 303
    assert "secure" in session_cookie(response).lower()
    assert all("secure" in c.lower() for c in response.headers.get_list("set-cookie"))
    assert response.headers["strict-transport-security"].startswith("max-age=")


async def test_an_idle_session_expires_and_requests_renew_it_once_a_minute(
    live: LiveApp, admin: Clerk, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = live.app.stores.get(STORE)
    session = admin.client.cookies[COOKIE]
    assert (await admin.get("/purchases/supply")).status_code == 200  # shows what login left
    data = await store.get(session)
    assert data is not None
    await store.set(session, data, expires_in=100)  # as if it had been idle for 478 minutes
    # Written moments ago, and left as it was: this request does not write it again.
    assert (await admin.get("/purchases/supply")).status_code == 200
    left = await store.expires_in(session)
    assert left is not None
    assert left <= 100
    monkeypatch.setattr(sessions, "RENEW_AFTER_S", 0.0)  # as if the last write were long ago
    assert (await admin.get("/purchases/supply")).status_code == 200
    renewed = await store.expires_in(session)
    assert renewed is not None
    assert renewed > IDLE_MINUTES * 60 - 60
    await store.set(session, data, expires_in=-1)  # as if it had been idle past the limit
    response = await admin.get("/purchases/supply")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")


async def test_a_request_that_changes_the_session_writes_it_at_once(
    live: LiveApp, admin: Clerk
) -> None:
    store = live.app.stores.get(STORE)
    session = admin.client.cookies[COOKIE]
    before = await store.get(session)
    purchase = await a_purchase("supply", "draft")
    moved = await admin.post(
        f"/purchases/supply/{purchase['id']}/status",
        {"status": "pending", "version": str(purchase["version"]), "next": "/purchases/supply"},
    )
    assert moved.status_code == 303
    assert await store.get(session) != before  # the flash message went into the session
    shown = f"{purchase['invoice_number']} is now Pending."
    assert shown in (await admin.get("/purchases/supply")).text
    assert await store.get(session) == before  # shown once, then gone from the session
    assert shown not in (await admin.get("/purchases/supply")).text


async def test_concurrent_requests_of_a_user_share_one_lookup(
    live: LiveApp, admin: Clerk, monkeypatch: pytest.MonkeyPatch
) -> None:
    lookups = 0
    load_actor = users.load_actor

    async def counted(user_id: int) -> Actor | None:
        nonlocal lookups
        lookups += 1
        return await load_actor(user_id)

    monkeypatch.setattr(users, "load_actor", counted)
    live.app.state.actors = users.ActorCache(ttl_s=60)  # nothing kept from the login
    pages = await asyncio.gather(*(admin.get("/purchases/supply", htmx=True) for _ in range(40)))
    assert {page.status_code for page in pages} == {200}
    assert lookups == 1


@pytest.mark.parametrize(
    "tuned", [{"login_failures_per_account": 3, "login_failures_per_ip": 100}], indirect=True
)
async def test_failed_logins_lock_the_account_for_a_while(tuned: LiveApp) -> None:
    async with tuned.client() as http:
        clerk = Clerk(http)
        for _ in range(2):
            assert (await clerk.login("admin", "wrong-password")).status_code == 401
        assert (await clerk.login("admin")).status_code == 303  # a success clears the count
        await clerk.post("/logout", {})
        for _ in range(3):
            assert (await clerk.login("admin", "wrong-password")).status_code == 401
        locked = await clerk.login("admin")
        assert locked.status_code == 429
        assert "Too many failed logins for this account. Try again in 15 minutes." in locked.text
        assert (await clerk.login("manager")).status_code == 303


@pytest.mark.parametrize(
    "tuned",
    [
        {
            "login_failures_per_account": 100,
            "login_failures_per_account_global": 100,
            "login_failures_per_ip": 3,
        }
    ],
    indirect=True,
)
async def test_failed_logins_lock_the_address_across_accounts(tuned: LiveApp) -> None:
    async with tuned.client() as http:
        clerk = Clerk(http)
        for username in ("admin", "manager", "nobody"):
            assert (await clerk.login(username, "wrong-password")).status_code == 401
        locked = await clerk.login("supervisor")
        assert locked.status_code == 429
        assert "Too many failed logins from this address." in locked.text


async def test_an_unknown_session_id_is_ignored_not_kept(live: LiveApp, anonymous: Clerk) -> None:
    made_up = "a" * 64
    anonymous.client.cookies.set(COOKIE, made_up)
    for path in ("/login", "/purchases/supply", "/health", "/events"):
        response = await anonymous.get(path)
        assert f"{COOKIE}=" not in response.headers.get("set-cookie", ""), path
    assert await live.app.stores.get(STORE).get(made_up) is None
    assert not (live.app.state.settings.var_dir / STORE).exists() or not any(
        (live.app.state.settings.var_dir / STORE).iterdir()
    )
    # Logging in from there starts a session under an id of the server's own.
    response = await anonymous.login("admin")
    assert response.status_code == 303
    assert made_up not in session_cookie(response)


async def test_expired_sessions_and_login_counts_are_swept(live: LiveApp, admin: Clerk) -> None:
    store = live.app.stores.get(STORE)
    await store.set("ended-long-ago", b"{}", expires_in=timedelta(seconds=-1))
    counts = live.app.state.login_throttle.counts
    await counts.take("address-ended", window_s=0)
    folder = live.app.state.settings.var_dir / STORE
    assert len(list(folder.iterdir())) == 2  # the admin's, and one nobody will read again
    (folder / "0123abcd.tmpx81").write_bytes(b"half-written")  # a session being saved
    (folder / "junk").write_bytes(b"\xff not a session")
    assert await sessions.sweep_expired(store, counts) == 1  # the others did not stop it
    assert len(list(folder.iterdir())) == 3
    assert await counts.sweep() == 0  # the ended count went with the sweep
    assert (await admin.get("/purchases/supply")).status_code == 200


@pytest.mark.parametrize(
    "tuned",
    [{"password_threads": 1, "password_queue": 0, "login_failures_per_account": 3}],
    indirect=True,
)
async def test_logins_beyond_what_the_hashing_threads_can_take_are_refused_at_once(
    tuned: LiveApp,
) -> None:
    passwords = tuned.app.state.passwords
    release = threading.Event()
    occupied = asyncio.ensure_future(passwords._run(release.wait))  # the one thread is busy
    try:
        async with tuned.client() as http:
            clerk = Clerk(http)
            busy = [await clerk.login("admin", "wrong-password") for _ in range(3)]
    finally:
        release.set()
        await occupied
    assert [answer.status_code for answer in busy] == [503] * 3
    assert "The server is busy signing other people in." in busy[0].text
    assert busy[0].headers["retry-after"] == "5"
    # Refused for being busy, they were never tried: none of them counts as a failure.
    async with tuned.client() as http:
        clerk = Clerk(http)
        for _ in range(3):
            assert (await clerk.login("admin", "wrong-password")).status_code == 401
        assert (await clerk.login("admin")).status_code == 429  # the third failure locked it


async def test_login_limits_hold_across_processes_that_share_redis() -> None:
    url, prefix = shared_redis(), f"test_login_attempts_{uuid.uuid4().hex}:"
    clients = [AsyncRedis.from_url(url) for _ in range(2)]  # as two processes would
    try:
        throttles = [
            LoginThrottle(
                RedisCounts(c, prefix),
                secret="test-secret-key",
                per_account=1000,
                per_ip=20,
                per_account_global=1000,
                lockout_minutes=15,
            )
            for c in clients
        ]
        attempts = await asyncio.gather(
            *(throttles[n % 2].admit(f"user{n}", "10.0.0.9") for n in range(100))
        )
        assert [attempt.refusal for attempt in attempts].count("") == 20
        keys = await clients[0].keys(prefix + "*")
        assert keys
        for key in keys:  # each count with the window's expiry: Redis forgets it by itself
            assert 0 < await clients[0].ttl(key) <= 15 * 60
    finally:
        left = await clients[0].keys(prefix + "*")
        if left:
            await clients[0].delete(*left)
        for client in clients:
            await client.aclose()
