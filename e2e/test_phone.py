"""On a phone (Playwright's Pixel 5: 393 px wide, touch): the index is a list of cards with no
sideways scrolling, what a thumb presses is at least 44 px high, and a clerk logs in, filters,
moves a purchase with a note and sees another clerk's change arrive."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, Playwright, expect

from e2e.pages import LOCALES, LoginPage, language_of, open_as, say, watch, watch_for_problems
from purchasing.settings import PROJECT_ROOT
from tests.helpers.servers import LiveServer

PHONE = "Pixel 5"
SHOTS = PROJECT_ROOT / "var" / "phone"
TOUCH_PX = 44
# Everything pressable in the header, the filters and the table, as it is laid out now.
PRESSABLE_HEIGHTS = """() => [...document.querySelectorAll(
    '.filters select, .filters button, .filters input, #purchase-table select,'
    + ' #purchase-table button, #purchase-table a')]
  .filter(e => e.offsetParent !== null && !e.closest('dialog'))
  .map(e => [e.textContent.trim() || e.getAttribute('name'), e.getBoundingClientRect().height])"""


@pytest.fixture(params=["id", "en"])
def language(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def phone(browser: Browser, playwright: Playwright, base_url: str, language: str) -> Iterator[Page]:
    device = {**playwright.devices[PHONE], "locale": LOCALES[language]}
    context = browser.new_context(**device, base_url=base_url)
    page = context.new_page()
    watch_for_problems(page)
    yield page
    context.close()


# A clerk on a phone reads Indonesian (the journey in both languages is test_languages.py).
@pytest.mark.parametrize("language", ["id"])
def test_a_clerk_works_the_purchases_from_a_phone(
    phone: Page, browser: Browser, base_url: str, live_server: LiveServer, language: str
) -> None:
    LoginPage(phone).login("supervisor")
    assert language_of(phone) == language
    mine, theirs = live_server.fresh_purchase("supply"), live_server.fresh_purchase("supply")
    index = watch(phone, "supply", "?status=draft&per_page=50")
    width = phone.viewport_size["width"] if phone.viewport_size else 0
    assert phone.evaluate("document.documentElement.scrollWidth") <= width  # nothing sideways
    card = index.row(mine)
    assert card.evaluate("row => getComputedStyle(row).display") == "grid"  # a card, not a row
    for label in ("Date", "Supplier", "Farm", "Total", "Status"):
        expect(card.locator(f'td[data-label="{say(language, label)}"]')).to_be_visible()
    small = [(name, h) for name, h in phone.evaluate(PRESSABLE_HEIGHTS) if h < TOUCH_PX]
    assert small == [], f"under {TOUCH_PX} px: {small}"

    # Filtering by search, on the phone's keyboard.
    index.search(mine)
    expect(index.rows).to_have_count(1)

    # A move with a note, through the dialog.
    index.change_status(mine, say(language, "Cancelled"), "Pemasok kehabisan stok")
    index.expect_status(mine, "cancelled")

    # Another clerk's change arrives on the phone.
    index.search("")
    index.filter_status(say(language, "Draft"))
    expect(index.row(theirs)).to_have_attribute("data-status", "draft")
    other = open_as(browser, base_url, "manager")
    try:
        desk = watch(other, "supply", f"?q={theirs}")
        desk.change_status(theirs, "Pending")
        desk.expect_status(theirs, "pending")
    finally:
        other.context.close()
    expect(index.row(theirs)).to_have_count(0)  # no longer a draft: it leaves the filtered view
    expect(phone.get_by_test_id("toast").last).to_contain_text(theirs)
    moved = f"{say(language, 'Draft')} → {say(language, 'Pending')}"
    expect(phone.get_by_test_id("toast").last).to_contain_text(moved)  # in the phone's words


def test_detail_form_and_monitor_fit_a_phone(
    phone: Page, live_server: LiveServer, language: str
) -> None:
    """Nothing scrolls sideways on the pages a clerk opens from a phone, in either language
    (Indonesian words run longer); each is kept as a screenshot under var/phone/."""
    LoginPage(phone).login("admin")
    purchase_id = live_server.purchase_id(live_server.fresh_purchase("livestock"))
    width = phone.viewport_size["width"] if phone.viewport_size else 0
    for name, path in (
        ("index", "/purchases/livestock?per_page=10"),
        ("detail", f"/purchases/livestock/{purchase_id}"),
        ("edit-form", f"/purchases/livestock/{purchase_id}/edit"),
        ("new-form", "/purchases/feed/new"),
        ("monitor", "/admin/monitor"),
    ):
        response = phone.goto(path)
        assert response is not None
        assert response.ok, f"{path}: {response.status}"
        assert language_of(phone) == language
        scrolled = phone.evaluate("document.documentElement.scrollWidth")
        assert scrolled <= width, f"{path} is {scrolled} px wide on a {width} px phone"
        phone.screenshot(path=SHOTS / language / f"{name}.png", full_page=True)
