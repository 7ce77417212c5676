"""Login, logout, the session requirement and CSRF."""

from __future__ import annotations

import pytest
from argon2 import extract_parameters

from purchasing.services.passwords import PROFILES
from purchasing.tables import AppUser, Purchase
from tests.helpers.app import Clerk, LiveApp
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
