"""What a hostile colleague or a browser with too many tabs gets, as a clerk sees it."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Request, expect

from e2e.pages import WITHOUT_WEB_LOCKS, IndexPage, index_tab, signed_in, toasts_shown
from tests.helpers.servers import LiveServer, serving


def logged_in_client(base_url: str, username: str) -> httpx.Client:
    client = httpx.Client(base_url=base_url, timeout=10)
    client.get("/login")
    token = client.cookies["csrftoken"]
    form = {"username": username, "password": f"{username}-demo"}
    assert client.post("/login", data=form, headers={"x-csrftoken": token}).status_code == 303
    return client


def test_a_colleague_sending_another_pages_tab_id_cannot_hide_their_change_from_it(
    browser: Browser, base_url: str, live_server: LiveServer
) -> None:
    invoice = live_server.fresh_purchase("supply")
    page = signed_in(browser, base_url, "manager")
    try:
        index = IndexPage(page, "supply").open(f"?q={invoice}")
        expect(page.get_by_test_id("connection-status")).to_have_attribute("data-state", "live")
        tab_id = page.locator("body").get_attribute("data-tab-id")
        assert tab_id
        row = index.row(invoice)
        purchase_id, version = (
            row.get_attribute("data-purchase-id"),
            row.get_attribute("data-version"),
        )
        colleague = logged_in_client(base_url, "supervisor")
        try:
            moved = colleague.post(
                f"/purchases/supply/{purchase_id}/status",
                data={"status": "pending", "version": version},
                headers={
                    "x-csrftoken": colleague.cookies["csrftoken"],
                    "hx-request": "true",
                    "x-tab-id": tab_id,  # the manager's page's own tab id
                },
            )
        finally:
            colleague.close()
        assert moved.status_code == 200
        index.expect_status(invoice, "pending")  # the table refreshed
        toasts_shown(index, 1)  # and told them who did it
        expect(page.get_by_test_id("toast")).to_contain_text(invoice)
    finally:
        page.context.close()


class CappedServer(LiveServer):
    """A server that lets one browser hold two streams, and asks a refused page to wait 2 s."""

    def __init__(self, directory: object) -> None:
        super().__init__(directory)  # type: ignore[arg-type]
        self.env.update({"STREAMS_PER_SESSION": "2", "STREAMS_RETRY_AFTER_S": "2"})


@pytest.fixture(scope="module")
def capped_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CappedServer]:
    yield from serving(CappedServer(tmp_path_factory.mktemp("capped")), per_kind=10)


def test_a_tab_past_the_stream_cap_says_so_and_waits_instead_of_retrying(
    browser: Browser, capped_server: CappedServer
) -> None:
    page = signed_in(browser, capped_server.url, "manager", WITHOUT_WEB_LOCKS)
    context: BrowserContext = page.context
    try:
        first = page  # signed in, on the supply page: one stream
        second = index_tab(context, "feed")
        third = IndexPage(context.new_page(), "livestock")
        asked: list[Request] = []
        third.page.on(
            "request", lambda request: asked.append(request) if "/events" in request.url else None
        )
        third.open()
        status = third.page.get_by_test_id("connection-status")
        expect(status).to_have_attribute("data-state", "refused")
        expect(status).to_contain_text("this browser already has 2 live connections")
        # The stream, one look at why it was refused, perhaps the extension's first quick retry:
        # from then on the page waits as told (2 s here), where it would retry ever faster.
        asked_when_refused = len(asked)
        assert asked_when_refused <= 3
        second.page.close()  # a place frees up: after its wait, the page connects by itself
        expect(status).to_have_attribute("data-state", "live", timeout=15_000)
        assert len(asked) <= asked_when_refused + 3
        expect(first.get_by_test_id("connection-status")).to_have_attribute("data-state", "live")
    finally:
        context.close()


def test_back_after_logout_shows_no_page_of_the_session(
    browser: Browser, base_url: str, live_server: LiveServer
) -> None:
    page = signed_in(browser, base_url, "manager")
    try:
        purchase_id = live_server.query("SELECT min(id) FROM purchase WHERE kind = 'supply'")[0][0]
        page.goto(f"/purchases/supply/{purchase_id}")
        expect(page.get_by_test_id("history-ip").first).to_be_visible()
        page.get_by_test_id("logout").click()
        expect(page.locator("input[name=username]")).to_be_visible()
        page.go_back()  # the detail page is asked for again, not shown from a cache
        expect(page.locator("input[name=username]")).to_be_visible()
        expect(page.get_by_test_id("history-ip")).to_have_count(0)
    finally:
        page.context.close()
