"""Keyboard only: no mouse from login to a cancelled purchase. Focus moves with the Tab key into
each control, into the note dialog when it opens and back to its Apply button when it is
dismissed; a toast is dismissed from the keyboard."""

from __future__ import annotations

import re

from playwright.sync_api import Browser, Page, expect

from e2e.pages import IndexPage, open_as, watch
from tests.helpers.servers import LiveServer

MAX_TABS = 200  # more than the longest page has focusable elements


def tab_to(page: Page, test_id: str, within: str = "") -> None:
    """Press Tab until the element marked `test_id` (inside `within`, a CSS selector) has focus."""
    selector = f'{within} [data-testid="{test_id}"]'.strip()
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement?.matches(s) ?? false", selector):
            return
    raise AssertionError(f"Tab never reached {selector}")


def focused(page: Page) -> str:
    return str(page.evaluate("document.activeElement?.dataset?.testid ?? ''"))


def test_a_clerk_does_the_whole_journey_with_the_keyboard(
    page: Page, browser: Browser, base_url: str, live_server: LiveServer
) -> None:
    page.goto("/login")
    page.keyboard.press("Tab")  # the first field, after the skip link if any
    while page.evaluate("document.activeElement?.name ?? ''") != "username":
        page.keyboard.press("Tab")
    page.keyboard.type("supervisor")
    page.keyboard.press("Tab")
    page.keyboard.type("supervisor-demo")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/purchases/supply"))

    # Paging, then filtering by status, then a search: each from the keyboard.
    index = IndexPage(page, "supply")
    tab_to(page, "page-next")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"page=2"))
    tab_to(page, "status-filter")
    page.keyboard.type("Draft")  # a closed select picks the option its typed label starts
    expect(page).to_have_url(re.compile(r"status=draft"))
    invoice = live_server.fresh_purchase("supply")
    tab_to(page, "search")
    page.keyboard.type(invoice)
    page.keyboard.press("Enter")
    expect(index.rows).to_have_count(1)

    # The note dialog: focus goes in, and back to Apply when it is dismissed.
    row = f'[data-testid="purchase-row"][data-purchase-id="{live_server.purchase_id(invoice)}"]'
    tab_to_select(page, row)
    page.keyboard.type("Cancelled")
    tab_to(page, "status-apply", row)
    page.keyboard.press("Enter")
    dialog = page.locator(row).get_by_test_id("note-dialog")
    expect(dialog).to_be_visible()
    assert focused(page) == "note-input"
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    assert focused(page) == "status-apply"
    page.keyboard.press("Enter")
    expect(dialog).to_be_visible()
    page.keyboard.type("Dibatalkan: pemasok kehabisan stok")
    tab_to(page, "note-save", row)
    page.keyboard.press("Enter")
    index.expect_status(invoice, "cancelled")

    # A toast, dismissed from the keyboard.
    other = open_as(browser, base_url, "manager")
    theirs = live_server.fresh_purchase("supply")
    desk = watch(other, "supply", f"?q={theirs}")
    toast = page.get_by_test_id("toast").filter(has_text=theirs)
    try:
        desk.change_status(theirs, "Pending")
        expect(toast).to_be_visible()  # at once: a toast lives 10 s
    finally:
        other.context.close()
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement?.classList.contains('toast-close') ?? false"):
            break
    page.keyboard.press("Enter")
    expect(toast).to_have_count(0)


def tab_to_select(page: Page, row: str) -> None:
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        if page.evaluate(
            "s => document.activeElement?.matches(s) ?? false", f"{row} select[name=status]"
        ):
            return
    raise AssertionError("Tab never reached the row's status control")
