"""Many tabs in one browser: they share one event stream, and every tab stays live."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, expect

from e2e.pages import (
    HOLDS_STREAM,
    WITHOUT_WEB_LOCKS,
    IndexPage,
    index_tab,
    is_table_refresh,
    new_tab,
    open_streams,
    signed_in,
    the_holder,
    toasts_shown,
)
from tests.helpers.servers import LiveServer

# An index page of each kind, then detail pages: 7 index tabs alone are more streams than the 6
# connections a browser opens to one host over HTTP/1.1.
INDEX_TABS = ["supply", "supply", "supply", "feed", "feed", "livestock", "livestock"]
DETAIL_TABS = ["supply", "feed", "livestock"]
HANG_S = 12  # longer than the takeover and the replay take, however slow the machine
HANG = f"const until = Date.now() + {HANG_S * 1000}; while (Date.now() < until) {{}}"


@pytest.fixture
def invoice(live_server: LiveServer) -> str:
    """A draft supply purchase of this test's own."""
    return live_server.fresh_purchase("supply")


@pytest.fixture
def changer(browser: Browser, base_url: str, invoice: str) -> Iterator[IndexPage]:
    """Another browser (its own context, so its own stream) where the supervisor changes the
    test's purchase."""
    page = signed_in(browser, base_url, "supervisor")
    yield IndexPage(page, "supply").open(f"?q={invoice}")
    page.context.close()


@pytest.fixture
def manager(browser: Browser, base_url: str) -> Iterator[BrowserContext]:
    """The browser of a manager who opens many tabs; its first tab is the login page."""
    page = signed_in(browser, base_url, "manager")
    yield page.context
    page.context.close()


def test_ten_tabs_load_share_one_stream_and_each_gets_every_change(
    manager: BrowserContext, changer: IndexPage, invoice: str, live_server: LiveServer
) -> None:
    indexes = [index_tab(manager, kind, f"?q={invoice}") for kind in INDEX_TABS]
    for kind in DETAIL_TABS:
        purchase_id = live_server.query("SELECT min(id) FROM purchase WHERE kind = ?", kind)[0][0]
        detail = new_tab(manager)
        detail.goto(f"/purchases/{kind}/{purchase_id}")
        expect(detail.get_by_test_id("purchase-status")).to_be_visible()
    assert len(manager.pages) == 11  # the first tab (signed in, on supply), 7 index, 3 detail
    the_holder(manager.pages)
    open_streams(live_server, 2)  # one for the manager's 11 tabs, one for the changer's tab

    changer.change_status(invoice, "Pending")
    supply = [index for index in indexes if index.kind == "supply"]
    others = [index for index in indexes if index.kind != "supply"]
    for index in supply:
        index.expect_status(invoice, "pending")
        toasts_shown(index, 1)
        expect(index.page.get_by_test_id("toast")).to_contain_text(invoice)
    newest = str(live_server.newest_event())
    for index in others:  # the event reached them too; a supply toast does not belong there
        expect(index.page.locator("body")).to_have_attribute("data-last-event-id", newest)
        toasts_shown(index, 0)

    # The tab holding the stream closes: another takes it over and resumes where it was.
    holder = the_holder(manager.pages)
    holder.close()
    remaining = [index for index in indexes if index.page is not holder]
    assert the_holder(manager.pages) is not holder
    changer.change_status(invoice, "Confirmed")
    for index in remaining:
        if index.kind == "supply":
            index.expect_status(invoice, "confirmed")
            toasts_shown(index, 2)  # one for each change, none twice
        else:
            toasts_shown(index, 0)
    open_streams(live_server, 2)


def test_a_hung_holder_is_taken_over_and_nothing_is_lost_or_shown_twice(
    manager: BrowserContext, changer: IndexPage, invoice: str, live_server: LiveServer
) -> None:
    indexes = [index_tab(manager, "supply", f"?q={invoice}") for _ in range(3)]
    manager.pages[0].close()  # the first tab: only these three remain
    pages = [index.page for index in indexes]
    holder = the_holder(pages)
    # The holder's page stops running for a while, as a hung or frozen tab does.
    holder.evaluate(f"() => {{ setTimeout(() => {{ {HANG} }}, 0); }}")

    changer.change_status(invoice, "Pending")
    awake = [index for index in indexes if index.page is not holder]
    for index in awake:  # after the takeover (2-3 s) the new holder's stream replays it, while
        # the old holder still hangs: it could not have relayed it
        expect(index.row(invoice)).to_have_attribute(
            "data-status", "pending", timeout=(HANG_S - 4) * 1000
        )
        toasts_shown(index, 1)
    assert the_holder([index.page for index in awake]) is not holder

    # Running again, the old holder finds its lock taken, lets its stream go and follows.
    the_holder(pages)
    for index in indexes:
        index.expect_status(invoice, "pending")
        toasts_shown(index, 1)
    open_streams(live_server, 2)


def test_a_hidden_tab_does_not_refresh_and_catches_up_when_shown(
    manager: BrowserContext, changer: IndexPage, invoice: str, live_server: LiveServer
) -> None:
    shown, hidden = (index_tab(manager, "supply", f"?q={invoice}") for _ in range(2))
    table_requests: list[str] = []
    hidden.page.on(
        "request",
        lambda request: is_table_refresh(request, "supply") and table_requests.append(request.url),
    )
    hidden.page.evaluate("""() => {
        Object.defineProperty(document, "hidden", {get: () => true, configurable: true});
        Object.defineProperty(
            document, "visibilityState", {get: () => "hidden", configurable: true});
        document.dispatchEvent(new Event("visibilitychange"));
    }""")

    changer.change_status(invoice, "Pending")
    shown.expect_status(invoice, "pending")
    newest = str(live_server.newest_event())
    expect(hidden.page.locator("body")).to_have_attribute("data-last-event-id", newest)
    hidden.expect_status(invoice, "draft")
    assert table_requests == []

    with hidden.page.expect_request(lambda request: is_table_refresh(request, "supply")):
        hidden.page.evaluate("""() => {
            delete document.hidden;
            delete document.visibilityState;
            document.dispatchEvent(new Event("visibilitychange"));
        }""")
    hidden.expect_status(invoice, "pending")
    assert len(table_requests) == 1
    toasts_shown(hidden, 1)


def test_a_tab_that_opens_late_gets_what_it_missed_from_the_holder(
    manager: BrowserContext, changer: IndexPage, invoice: str, live_server: LiveServer
) -> None:
    first, second = (index_tab(manager, "supply", f"?q={invoice}") for _ in range(2))
    the_holder(manager.pages)
    before = live_server.newest_event()
    changer.change_status(invoice, "Pending")
    changer.expect_status(invoice, "pending")
    changer.change_status(invoice, "Confirmed")
    first.expect_status(invoice, "confirmed")
    second.expect_status(invoice, "confirmed")
    changes = [
        row[0]
        for row in live_server.query("SELECT id FROM outbox_event WHERE id > ? ORDER BY id", before)
    ]
    assert len(changes) == 2
    # What a tab rendered at `after` hears from the holder when it says hello.
    hello = """async (after) => {
        const channel = new BroadcastChannel("purchasing-live:" + document.body.dataset.liveUser);
        const answer = new Promise((resolve) => {
            channel.onmessage = (event) => { if (event.data.to === "probe") resolve(event.data); };
        });
        channel.postMessage({kind: "hello", from: "probe", after: after});
        const welcome = await answer;
        channel.close();
        return welcome.messages.map((message) => [message.type, message.id]);
    }"""
    kind = "supply_purchase_status_changed"
    assert second.page.evaluate(hello, before) == [[kind, changes[0]], [kind, changes[1]]]
    assert second.page.evaluate(hello, changes[0]) == [[kind, changes[1]]]
    assert second.page.evaluate(hello, changes[1]) == []
    # Older than any tab here has seen: the late tab is told to re-fetch its table instead.
    assert second.page.evaluate(hello, 0) == [["resync", changes[1]]]


def test_without_web_locks_each_tab_holds_its_own_stream(
    browser: Browser, base_url: str, changer: IndexPage, invoice: str, live_server: LiveServer
) -> None:
    page = signed_in(browser, base_url, "manager", script=WITHOUT_WEB_LOCKS)
    context = page.context
    try:
        page.close()  # the first tab: only these three remain
        indexes = [index_tab(context, "supply", f"?q={invoice}") for _ in range(3)]
        assert [index.page.evaluate(HOLDS_STREAM) for index in indexes] == [1, 1, 1]
        open_streams(live_server, 4)
        changer.change_status(invoice, "Pending")
        for index in indexes:
            index.expect_status(invoice, "pending")
            toasts_shown(index, 1)
    finally:
        context.close()
