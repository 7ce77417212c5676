"""axe-core (through axe-playwright-python) on the pages clerks use: no serious or critical
violation on any of them, a toast or the note dialog showing included, in Bahasa Indonesia
and in English."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from e2e.pages import LOCALES, LoginPage, axe_violations, language_of, open_as, say, watch
from tests.helpers.servers import LiveServer


@pytest.fixture
def indonesian(browser: Browser, base_url: str) -> Iterator[Page]:
    """A browser whose language is Indonesian (the words run longer, the labels differ)."""
    page = browser.new_context(base_url=base_url, locale=LOCALES["id"]).new_page()
    yield page
    page.context.close()


# Each page is audited in one language or the other; both languages are.
def test_the_login_and_error_pages(page: Page) -> None:
    LoginPage(page).open()
    assert axe_violations(page) == []
    LoginPage(page).login("supervisor")
    page.goto("/purchases/supply/999999999")
    assert axe_violations(page) == []


# Each module once, the languages shared between them.
@pytest.mark.parametrize(
    ("kind", "language"), [("supply", "id"), ("feed", "en"), ("livestock", "id")]
)
def test_each_index_page_with_and_without_a_toast(
    browser: Browser, base_url: str, live_server: LiveServer, kind: str, language: str
) -> None:
    viewer = open_as(browser, base_url, "supervisor", language)
    mover = open_as(browser, base_url, "manager")
    try:
        invoice = live_server.fresh_purchase(kind)
        index = watch(viewer, kind, f"?q={invoice}")
        assert axe_violations(viewer) == []
        moving = watch(mover, kind, f"?q={invoice}")
        moving.change_status(invoice, "Pending")
        expect(viewer.get_by_test_id("toast").first).to_be_visible()
        assert axe_violations(viewer) == []
        # Screen readers hear toasts and the connection state (live regions), and a status
        # is told in words, not by its colour alone.
        expect(viewer.get_by_test_id("toasts")).to_have_attribute("aria-live", "polite")
        expect(viewer.get_by_test_id("connection-status")).to_have_attribute("role", "status")
        expect(index.row(invoice).locator(".badge")).to_have_text(say(language, "Pending"))
        # The note dialog, open.
        row = index.row(invoice)
        row.get_by_test_id("status-control").locator("select[name=status]").select_option(
            label=say(language, "Cancelled")
        )
        row.get_by_test_id("status-apply").click()
        expect(row.get_by_test_id("note-dialog")).to_be_visible()
        assert axe_violations(viewer) == []
    finally:
        viewer.context.close()
        mover.context.close()


def test_detail_forms_and_monitor(indonesian: Page, live_server: LiveServer) -> None:
    page = indonesian
    LoginPage(page).login("admin")
    purchase_id = live_server.purchase_id(live_server.fresh_purchase("livestock"))
    for path in (
        f"/purchases/livestock/{purchase_id}",
        f"/purchases/livestock/{purchase_id}/edit",
        "/purchases/feed/new",
        "/admin/monitor",
    ):
        response = page.goto(path)
        assert response is not None
        assert response.ok, path
        assert axe_violations(page) == [], (language_of(page), path)
