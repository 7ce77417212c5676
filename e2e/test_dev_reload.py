"""Live reload in development: on a DEBUG server serving a copy of the templates, an edited
partial shows in the open page's table without a reload, and an edited page reloads the page.
Without DEBUG the page carries no marker and listens for nothing of the kind."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from e2e.pages import IndexPage, LoginPage
from purchasing.web.templating import STATIC, TEMPLATES
from tests.helpers.servers import LiveServer, serving

DEV_RELOAD_BODY = "body[data-dev-reload]"
MARKER = '<span data-testid="dev-marker">edited</span>'


class DevServer(LiveServer):
    """`DEBUG=1 purchasing serve` on copies of the templates and static files (so that only this
    test edits what it serves)."""

    def __init__(self, directory: Path) -> None:
        super().__init__(directory)
        self.templates = shutil.copytree(TEMPLATES, directory / "templates")
        static = shutil.copytree(STATIC, directory / "static")
        self.env.update(DEBUG="1", TEMPLATES_DIR=str(self.templates), STATIC_DIR=str(static))

    def edit(self, template: str, old: str, new: str) -> None:
        """Replace the first `old` in the served copy of `template`."""
        path = self.templates / template
        text = path.read_text()
        assert old in text
        path.write_text(text.replace(old, new, 1))


@pytest.fixture(scope="module")
def dev_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevServer]:
    yield from serving(DevServer(tmp_path_factory.mktemp("dev")), per_kind=10)


def test_an_edited_partial_refreshes_the_table_and_an_edited_page_reloads(
    browser: Browser, dev_server: DevServer
) -> None:
    context = browser.new_context(base_url=dev_server.url)
    try:
        page = context.new_page()
        LoginPage(page).login("manager")
        index = IndexPage(page, "supply").open()
        expect(page.locator(DEV_RELOAD_BODY)).to_have_count(1)
        expect(page.get_by_test_id("connection-status")).to_have_attribute("data-state", "live")
        page.evaluate("window.__sameDocument = true")

        dev_server.edit("purchases/_row.html.j2", "</td>", f"{MARKER}</td>")
        expect(index.rows.get_by_test_id("dev-marker").first).to_be_visible()
        assert page.evaluate("window.__sameDocument") is True  # the table only, not the page

        dev_server.edit("purchases/index.html.j2", "</h1>", " (edited)</h1>")
        expect(page.get_by_role("heading", level=1)).to_have_text("Supply (OVK) purchases (edited)")
        assert page.evaluate("window.__sameDocument") is None  # a new document
        expect(index.rows.get_by_test_id("dev-marker").first).to_be_visible()
    finally:
        context.close()


def test_without_debug_pages_carry_no_live_reload_marker(page: Page) -> None:
    LoginPage(page).login("manager")
    IndexPage(page, "supply").open()
    expect(page.get_by_test_id("connection-status")).to_have_attribute("data-state", "live")
    expect(page.locator(DEV_RELOAD_BODY)).to_have_count(0)
