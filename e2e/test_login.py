"""Signing in and out in a real browser."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from e2e.pages import LoginPage


def test_a_wrong_password_is_explained(page: Page) -> None:
    login = LoginPage(page).open()
    login.submit("admin", "not-the-password")
    expect(page.get_by_test_id("login-error")).to_have_text("Wrong username or password.")
    expect(page.locator("input[name=username]")).to_have_value("admin")


def test_login_returns_to_the_page_asked_for_and_logout_ends_it(page: Page) -> None:
    page.goto("/purchases/livestock?status=arrived")
    expect(page).to_have_url(re.compile(r"/login\?next="))
    LoginPage(page).submit("manager", "manager-demo")
    expect(page).to_have_url(re.compile(r"/purchases/livestock\?status=arrived$"))
    expect(page.get_by_test_id("current-user")).to_have_text("Manager")
    page.get_by_test_id("logout").click()
    expect(page).to_have_url(re.compile(r"/login$"))
    page.goto("/purchases/supply")
    expect(page).to_have_url(re.compile(r"/login\?next="))
