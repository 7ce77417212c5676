"""When something fails the clerk reads a plain message and a reference to quote, where it fits."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, Route, expect

from e2e.pages import IndexPage, open_as, until
from tests.helpers.servers import LiveServer


@pytest.fixture
def supervisor(browser: Browser, base_url: str) -> Iterator[Page]:
    page = open_as(browser, base_url, "supervisor")
    yield page
    page.context.close()


def test_an_unexpected_error_shows_its_reference_in_the_banner_and_the_log(
    supervisor: Page, live_server: LiveServer
) -> None:
    invoice = live_server.fresh_purchase("supply")
    ((purchase_id,),) = live_server.query(
        "SELECT id FROM purchase WHERE invoice_number = ?", invoice
    )
    # A fault inside the database, as a bug or a broken disk would raise it.
    trigger = f"fail_{purchase_id}"
    live_server.query(
        f"CREATE TRIGGER {trigger} BEFORE UPDATE ON purchase WHEN OLD.id = {purchase_id}"
        " BEGIN SELECT RAISE(ABORT, 'simulated fault'); END"
    )
    try:
        index = IndexPage(supervisor, "supply").open(f"?q={invoice}")
        index.change_status(invoice, "Pending")
        banner = supervisor.get_by_test_id("error-banner")
        expect(banner).to_be_visible()
        expect(banner).to_contain_text("Something went wrong")
        reference = banner.locator("code").inner_text()
    finally:
        live_server.query(f"DROP TRIGGER {trigger}")
    # The row stands as it was, with no error page inside the table.
    index.expect_status(invoice, "draft")
    expect(supervisor.locator("#live-table [data-testid=error]")).to_have_count(0)
    # The log holds the traceback under the same reference.
    until(lambda: error_line(live_server, reference) is not None, "the error's log line")
    line = error_line(live_server, reference)
    assert line is not None
    assert "simulated fault" in line["exception"]


def error_line(server: LiveServer, reference: str) -> dict[str, str] | None:
    for text in server.log().splitlines():
        if text.startswith("{") and f'"{reference}"' in text:
            line = json.loads(text)
            if line.get("event") == "unhandled error":
                return dict(line)
    return None


def test_an_error_page_from_elsewhere_is_never_swapped_into_the_table(
    supervisor: Page, live_server: LiveServer
) -> None:
    invoice = live_server.fresh_purchase("supply")
    index = IndexPage(supervisor, "supply").open(f"?q={invoice}")

    def proxy_error(route: Route) -> None:
        route.fulfill(status=502, content_type="text/html", body="<h1>502 Bad Gateway</h1>")

    supervisor.route("**/purchases/supply/*/status", proxy_error)
    index.change_status(invoice, "Pending")
    banner = supervisor.get_by_test_id("error-banner")
    expect(banner).to_contain_text("The request failed (502)")
    expect(supervisor.get_by_text("Bad Gateway")).to_have_count(0)
    index.expect_status(invoice, "draft")
