"""The monitor page: what an Administrator watches while the clerks work."""

from __future__ import annotations

from playwright.sync_api import Browser, Page, expect

from e2e.pages import IndexPage, open_as
from tests.helpers.servers import LiveServer


def value(page: Page, test_id: str, attribute: str = "data-value") -> int:
    return int(page.get_by_test_id(test_id).get_attribute(attribute) or "")


def test_the_monitor_shows_a_change_made_in_another_browser_as_it_happens(
    browser: Browser, base_url: str, live_server: LiveServer
) -> None:
    admin = open_as(browser, base_url, "superadmin")
    admin.get_by_test_id("nav-monitor").click()
    expect(admin).to_have_url(f"{base_url}/admin/monitor")
    expect(admin.get_by_test_id("connection-status")).to_have_attribute("data-state", "live")
    delivered = value(admin, "counter-delivered")
    in_window = value(admin, "events-this-minute", "data-window")
    admin.evaluate("window.__sameDocument = true")

    clerk = open_as(browser, base_url, "supervisor")
    invoice = live_server.fresh_purchase("feed")
    IndexPage(clerk, "feed").open(f"?q={invoice}").change_status(invoice, "Pending")

    newest = admin.get_by_test_id("monitor-event").first
    expect(newest).to_contain_text(invoice)
    expect(newest).to_contain_text("Draft → Pending")
    expect(newest).to_contain_text("Supervisor")
    expect(newest).to_have_attribute("data-event-id", str(live_server.newest_event()))
    # The counters moved with it: one more event in the charts' window, delivered at least to
    # the monitor's own stream and to the clerk's.
    assert value(admin, "events-this-minute", "data-window") >= in_window + 1
    assert value(admin, "counter-delivered") >= delivered + 2
    assert value(admin, "streams-open") >= 2
    assert admin.evaluate("window.__sameDocument") is True  # updated in place, not reloaded
    admin.context.close()
    clerk.context.close()


def test_a_clerk_is_not_shown_the_monitor(browser: Browser, base_url: str) -> None:
    clerk = open_as(browser, base_url, "manager")
    expect(clerk.get_by_test_id("nav-monitor")).to_have_count(0)
    response = clerk.goto("/admin/monitor")
    assert response is not None
    assert response.status == 403
    expect(clerk.get_by_test_id("error")).to_contain_text("The monitor is for Administrators")
    clerk.context.close()
