"""Who else is here, across two browsers: people appear on a purchase's pages as viewing or
editing, the index marks the row being edited, and a closed or killed tab disappears."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from e2e.pages import DetailPage, IndexPage, two_people
from tests.helpers.report import TEST_REPORT
from tests.helpers.servers import LiveServer

# Join and leave within 5 s; a killed tab within 20 s (README, "Who else is here").
JOIN_MS = 5000
KILLED_MS = 20000


@pytest.fixture
def clerks(browser: Browser, base_url: str) -> Iterator[tuple[Page, Page]]:
    """A (manager) comes and goes; B (supervisor) stays on the purchase's detail page."""
    yield from two_people(browser, base_url, "manager", "supervisor")


def kill(page: Page) -> None:
    """The tab stops dead, as a crashed or hung one does: not another word, and no goodbye (its
    `pagehide` never runs). Its script spins forever; Playwright can neither wait out a real
    renderer crash nor tell which process is the tab's."""
    page.evaluate("setTimeout(() => { for (;;) {} }, 0)")


IDLE_WINDOW_S = 6  # longer than the 5 s at which a tab tells its holder what it has open


def no_requests_while_idle(page: Page) -> None:
    """An idle detail page with someone else on it sends nothing: presence rides the stream.
    (What the stream itself carries meanwhile is measured in tests/integration/test_presence.)"""
    sent: list[str] = []
    page.on("request", lambda request: sent.append(request.url))
    page.wait_for_timeout(IDLE_WINDOW_S * 1000)  # the window watched: an idle page, on purpose
    TEST_REPORT.append(
        f"presence, an idle detail page with someone else on it: {len(sent)} requests in "
        f"{IDLE_WINDOW_S} s"
    )
    assert sent == [], f"an idle page sent requests: {sent}"


def test_people_appear_as_viewing_then_editing_and_leave(
    clerks: tuple[Page, Page], live_server: LiveServer
) -> None:
    a, b = clerks
    invoice = live_server.fresh_purchase("supply")
    purchase_id = live_server.purchase_id(invoice)
    DetailPage(b).open("supply", purchase_id)
    presence_b = b.get_by_test_id("presence")
    expect(presence_b).to_be_hidden()

    DetailPage(a).open("supply", purchase_id)
    person = presence_b.get_by_test_id("presence-person")
    expect(person).to_have_count(1, timeout=JOIN_MS)
    expect(person).to_have_attribute("data-mode", "viewing")
    expect(person).to_contain_text("Manager")
    expect(a.get_by_test_id("presence-person")).to_have_text("Supervisor viewing")
    no_requests_while_idle(b)

    # B opens the supply index in a second tab: the row A edits is marked there.
    index_b = b.context.new_page()
    index = IndexPage(index_b, "supply").open(f"?q={invoice}")
    a.goto(f"/purchases/supply/{purchase_id}/edit")
    expect(person).to_have_attribute("data-mode", "editing", timeout=JOIN_MS)
    expect(person).to_have_count(1)
    marker = index.row(invoice).get_by_test_id("editing-marker")
    expect(marker).to_contain_text("Manager", timeout=JOIN_MS)

    a.goto("/purchases/supply")  # A moves on
    expect(presence_b).to_be_hidden(timeout=JOIN_MS)
    expect(marker).to_have_count(0, timeout=JOIN_MS)


def test_a_killed_tab_disappears(clerks: tuple[Page, Page], live_server: LiveServer) -> None:
    a, b = clerks
    purchase_id = live_server.purchase_id(live_server.fresh_purchase("feed"))
    DetailPage(b).open("feed", purchase_id)
    IndexPage(a, "feed").open()  # A's first tab holds A's stream
    editing = a.context.new_page()
    editing.goto(f"/purchases/feed/{purchase_id}/edit")
    person = b.get_by_test_id("presence-person")
    expect(person).to_have_attribute("data-mode", "editing", timeout=JOIN_MS)

    kill(editing)
    expect(person).to_have_count(0, timeout=KILLED_MS)
    expect(b.get_by_test_id("presence")).to_be_hidden()
