"""Login, logout, the session requirement, CSRF, and lockouts that never lock an owner out of the
browser they use."""

from __future__ import annotations

import pytest
from argon2 import extract_parameters

from purchasing.services.passwords import PROFILES
from purchasing.tables import AppUser, Purchase
from purchasing.web.devices import COOKIE as DEVICE_COOKIE
from purchasing.web.devices import account_key
from tests.helpers.app import Clerk, LiveApp, signed_in
from tests.helpers.demo import a_purchase


async def test_every_page_needs_a_session(anonymous: Clerk) -> None:
    for url in [
        "/",
        "/purchases/supply",
        "/purchases/feed?per_page=50",
        "/purchases/livestock/new",
        "/purchases/supply/1",
    ]:
        response = await anonymous.get(url, follow_redirects=False)
        assert response.status_code == 303, url
        assert response.headers["location"].startswith("/login?next=")


async def test_htmx_requests_without_a_session_are_sent_to_login(anonymous: Clerk) -> None:
    response = await anonymous.get("/purchases/supply", htmx=True)
    assert response.status_code == 401
    assert response.headers["hx-redirect"] == "/login"


async def test_login_brings_the_clerk_back_where_they_were_going(anonymous: Clerk) -> None:
    await anonymous.get("/login")
    response = await anonymous.post(
        "/login",
        {"username": "admin", "password": "admin-demo", "next": "/purchases/feed?status=draft"},
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/purchases/feed?status=draft"
    page = await anonymous.get("/purchases/feed")
    assert page.status_code == 200
    assert 'data-testid="current-user">Admin<' in page.text


async def test_login_never_redirects_off_site(anonymous: Clerk) -> None:
    await anonymous.get("/login")
    for target in ["//evil.example/x", "https://evil.example/", "javascript:alert(1)"]:
        response = await anonymous.post(
            "/login", {"username": "admin", "password": "admin-demo", "next": target}
        )
        assert response.headers["location"] == "/purchases/supply", target


async def test_a_wrong_password_says_so_and_keeps_the_username(anonymous: Clerk) -> None:
    await anonymous.get("/login")
    response = await anonymous.post("/login", {"username": "admin", "password": "wrong-password"})
    assert response.status_code == 401
    assert "Wrong username or password." in response.text
    assert 'value="admin"' in response.text
    assert (await anonymous.get("/purchases/supply", follow_redirects=False)).status_code == 303


async def test_unknown_users_get_the_same_answer(anonymous: Clerk) -> None:
    await anonymous.get("/login")
    response = await anonymous.post("/login", {"username": "nobody", "password": "whatever-123"})
    assert response.status_code == 401
    assert "Wrong username or password." in response.text


async def test_logout_ends_the_session(admin: Clerk) -> None:
    response = await admin.post("/logout", {})
    assert response.status_code == 303
    assert (await admin.get("/purchases/supply", follow_redirects=False)).status_code == 303


async def test_posts_without_the_csrf_token_are_refused_and_change_nothing(admin: Clerk) -> None:
    purchase = await a_purchase("supply", "draft")
    response = await admin.post(
        f"/purchases/supply/{purchase['id']}/status",
        {"status": "pending", "version": purchase["version"]},
        csrf=False,
    )
    assert response.status_code == 403
    after = (
        await Purchase.select(Purchase.status, Purchase.version)
        .where(Purchase.id == purchase["id"])
        .first()
    )
    assert after == {"status": "draft", "version": purchase["version"]}


async def test_login_itself_needs_the_csrf_token(anonymous: Clerk) -> None:
    await anonymous.get("/login")
    response = await anonymous.post(
        "/login", {"username": "admin", "password": "admin-demo"}, csrf=False
    )
    assert response.status_code == 403


@pytest.mark.parametrize("tuned", [{"password_profile": "RFC_9106_LOW_MEMORY"}], indirect=True)
async def test_a_sign_in_rehashes_a_password_kept_with_weaker_parameters(tuned: LiveApp) -> None:
    """The demo's hashes are the tests' cheapest; a server set to the real profile upgrades
    each one at its owner's next sign-in, and the password goes on working."""
    before = await AppUser.select(AppUser.password_hash).where(AppUser.username == "admin").first()
    async with tuned.client() as http:
        assert (await Clerk(http).login("admin")).status_code == 303
    after = await AppUser.select(AppUser.password_hash).where(AppUser.username == "admin").first()
    assert extract_parameters(before["password_hash"]) == PROFILES["CHEAPEST"]
    assert extract_parameters(after["password_hash"]) == PROFILES["RFC_9106_LOW_MEMORY"]
    async with tuned.client() as http:
        assert (await Clerk(http).login("admin")).status_code == 303


WRONG = "wrong-password"
ACCOUNT_LOCKED = "Too many failed logins for this account. Try again in 15 minutes."
ACCOUNT_LOCKED_EVERYWHERE = (
    "Too many failed logins for this account. Log in from a browser you have logged in with "
    "before, or try again in 15 minutes."
)
INDONESIAN = {"Accept-Language": "id-ID,id;q=0.9"}


async def came_back(live: LiveApp, username: str) -> Clerk:
    """A browser that signed in as `username` once and signed out: it keeps its device cookie."""
    clerk = await signed_in(live, username)
    assert (await clerk.post("/logout", {})).status_code == 303
    assert clerk.client.cookies.get(DEVICE_COOKIE)
    return clerk


async def test_a_login_leaves_a_device_cookie_for_the_login_form_only(anonymous: Clerk) -> None:
    response = await anonymous.login("admin")
    [cookie] = [c for c in response.headers.get_list("set-cookie") if c.startswith("device=")]
    flags = {flag.strip().lower() for flag in cookie.split(";")[1:]}
    assert {"httponly", "samesite=lax", "path=/login", "max-age=31536000"} <= flags
    assert "secure" not in flags  # served over plain HTTP here


async def test_an_attackers_failures_lock_out_new_browsers_but_not_the_owners(
    live: LiveApp, anonymous: Clerk
) -> None:
    owner = await came_back(live, "admin")
    try:
        attacker = [(await anonymous.login("admin", WRONG)).status_code for _ in range(7)]
        assert attacker == [401] * 5 + [429] * 2
        assert (await owner.login("admin")).status_code == 303
        async with live.client() as http:
            fresh = await Clerk(http).login("admin")
        assert fresh.status_code == 429
        assert ACCOUNT_LOCKED in fresh.text
    finally:
        await owner.client.aclose()


@pytest.mark.parametrize(
    "tuned",
    [{"login_failures_per_account": 3, "login_failures_per_account_global": 3}],
    indirect=True,
)
async def test_a_forged_device_cookie_or_one_for_another_account_gives_no_trust(
    tuned: LiveApp,
) -> None:
    owner, colleague = await came_back(tuned, "admin"), await came_back(tuned, "manager")
    async with tuned.client() as attacker_http, tuned.client() as forger_http:
        attacker, forger = Clerk(attacker_http), Clerk(forger_http)
        for _ in range(3):  # the account's ceiling, from sources it does not know
            assert (await attacker.login("admin", WRONG)).status_code == 401
        # The colleague's cookie names another account: the ceiling holds for it too.
        refused = await colleague.login("admin")
        assert refused.status_code == 429
        assert ACCOUNT_LOCKED_EVERYWHERE in refused.text
        await colleague.get("/login")
        indonesian = await colleague.post(
            "/login", {"username": "admin", "password": "admin-demo"}, headers=INDONESIAN
        )
        assert indonesian.status_code == 429
        assert "Masuk dari peramban yang pernah Anda pakai untuk masuk" in indonesian.text
        # That cookie changed to name the owner's account no longer names any device.
        device_id, issued, _manager, signature = colleague.client.cookies[DEVICE_COOKIE].split(".")
        admin = account_key("admin", tuned.app.state.settings.secret_key)
        forged = ".".join([device_id, issued, admin, signature])
        forger_http.cookies.set(DEVICE_COOKIE, forged)
        assert (await forger.login("admin")).status_code == 429
        assert (await owner.login("admin")).status_code == 303
    await owner.client.aclose()
    await colleague.client.aclose()


@pytest.mark.parametrize("tuned", [{"login_failures_per_ip": 3}], indirect=True)
async def test_colleagues_behind_one_address_are_told_apart_by_their_browsers(
    tuned: LiveApp,
) -> None:
    colleague = await came_back(tuned, "manager")
    try:
        async with tuned.client() as attacker_http:
            attacker = Clerk(attacker_http)
            for username in ("admin", "operator", "nobody"):
                assert (await attacker.login(username, WRONG)).status_code == 401
            locked = await attacker.login("supervisor")
            assert locked.status_code == 429
            assert "Too many failed logins from this address." in locked.text
        assert (await colleague.login("manager")).status_code == 303
    finally:
        await colleague.client.aclose()
