"""Who may do what, as each person sees it in the browser."""

from __future__ import annotations

import re

from playwright.sync_api import Browser, expect

from e2e.pages import IndexPage, open_as, watch
from tests.helpers.servers import LiveServer

SCRIPT = "<script>alert(1)</script>"


def test_operators_see_only_what_they_may_do(browser: Browser, base_url: str) -> None:
    operator = open_as(browser, base_url, "operator")
    IndexPage(operator, "supply").open()
    expect(operator.get_by_test_id("new-purchase")).to_be_visible()
    livestock = IndexPage(operator, "livestock").open("?status=in_coop")
    expect(operator.get_by_test_id("new-purchase")).to_have_count(0)
    # Operators move chicks along (no further than the rules let them), they do not order them.
    expect(livestock.rows.get_by_test_id("status-final").first).to_be_visible()
    farms = livestock.rows.locator("td:nth-child(5)").all_inner_texts()
    assert set(farms) <= {"Farm Sukamaju", "Farm Cibadak Makmur"}
    operator.goto("/purchases/livestock/new")
    expect(operator.get_by_test_id("error")).to_contain_text(
        "An Operator may not create livestock purchases."
    )
    operator.context.close()


def test_a_manager_deletes_a_draft_and_other_tables_drop_it(
    browser: Browser, base_url: str, live_server: LiveServer
) -> None:
    invoice = live_server.fresh_purchase("feed")
    watcher = open_as(browser, base_url, "supervisor")
    table = watch(watcher, "feed", f"?q={invoice}")
    expect(table.rows).to_have_count(1)
    manager = open_as(browser, base_url, "manager")
    IndexPage(manager, "feed").open(f"?q={invoice}").row(invoice).get_by_test_id("invoice").click()
    manager.once("dialog", lambda dialog: dialog.accept())
    manager.get_by_test_id("delete-purchase").click()
    expect(manager.get_by_test_id("flash")).to_have_text(f"{invoice} was deleted.")
    expect(table.rows).to_have_count(0)
    supervisor_detail = open_as(browser, base_url, "supervisor")
    supervisor_detail.goto(f"/purchases/feed?q={invoice}")
    expect(supervisor_detail.get_by_test_id("empty-table")).to_be_visible()
    for page in (watcher, manager, supervisor_detail):
        page.context.close()


def test_a_script_named_supplier_is_only_ever_text(
    browser: Browser, base_url: str, live_server: LiveServer
) -> None:
    invoice = live_server.fresh_purchase("supply")
    (company,) = live_server.query(
        "SELECT company FROM purchase WHERE invoice_number = ?", invoice
    )[0]
    live_server.query(
        "INSERT INTO partner (company, kind, code, name, contact_name, phone, address,"
        " created_at, updated_at)"
        " VALUES (?, 'supplier', 'XSS', ?, '', '', '', datetime('now'), datetime('now'))",
        company,
        SCRIPT,
    )
    live_server.query(
        "UPDATE purchase SET supplier = (SELECT id FROM partner WHERE code = 'XSS')"
        " WHERE invoice_number = ?",
        invoice,
    )
    a, b = open_as(browser, base_url, "supervisor"), open_as(browser, base_url, "manager")
    index_a, index_b = watch(a, "supply", f"?q={invoice}"), watch(b, "supply", f"?q={invoice}")
    expect(index_b.row(invoice)).to_contain_text(SCRIPT)
    index_a.change_status(invoice, "Pending")
    toast = b.get_by_test_id("toast")
    expect(toast).to_contain_text(SCRIPT)
    expect(toast.locator("script")).to_have_count(0)
    index_b.row(invoice).get_by_test_id("invoice").click()
    expect(b.locator("dd", has_text=SCRIPT)).to_be_visible()
    a.context.close()
    b.context.close()


def test_logging_out_in_one_tab_takes_the_others_offline(browser: Browser, base_url: str) -> None:
    first = open_as(browser, base_url, "manager")
    IndexPage(first, "supply").open()
    status = first.get_by_test_id("connection-status")
    expect(status).to_have_attribute("data-state", "live")
    second = first.context.new_page()
    second.goto("/purchases/feed")
    second.get_by_test_id("logout").click()
    expect(second).to_have_url(re.compile(r"/login$"))
    expect(status).to_have_attribute("data-state", "offline", timeout=15_000)
    first.context.close()
