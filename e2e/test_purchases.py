"""A clerk's day: create purchases of each kind, move them through their statuses, find them."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from e2e.pages import DetailPage, IndexPage, LoginPage, PurchaseFormPage, table_url


@pytest.fixture
def supervisor(page: Page) -> Page:
    LoginPage(page).login("supervisor")
    return page


def unique_invoice(prefix: str) -> str:
    return f"{prefix}/E2E/{uuid.uuid4().hex[:8].upper()}"


def create_header(form: PurchaseFormPage, invoice: str, farm: str = "F01") -> None:
    form.fill(invoice_number=invoice, do_number="DO-E2E")
    form.choose("farm", farm)
    form.choose("supplier", "PT Medion Farma Jaya")
    form.choose("expedition", "CV Ekspedisi Cepat Sampai")
    form.fill(expedition_fee="150000")


def move_through(index: IndexPage, invoice: str, steps: list[tuple[str, str, str | None]]) -> None:
    for label, value, note in steps:
        index.change_status(invoice, label, note)
        index.expect_status(invoice, value)
        expect(index.row(invoice).get_by_test_id("row-message")).to_contain_text(f"is now {label}")


def test_supply_purchase_from_draft_to_completed(supervisor: Page) -> None:
    invoice = unique_invoice("OVK")
    form = PurchaseFormPage(supervisor, "supply").open_new()
    create_header(form, invoice)
    form.choose("lines-0-item", "Vitamin Vita Stress")
    form.choose("lines-0-unit", "KG")
    form.fill(lines__0__quantity="2.5", lines__0__price="120000")
    form.add_line()
    form.choose("lines-1-item", "Vaksin ND-IB Live")
    form.choose("lines-1-unit", "VIAL")
    form.fill(lines__1__quantity="10", lines__1__price="45000")
    form.save()

    detail = DetailPage(supervisor)
    expect(supervisor.get_by_test_id("flash")).to_have_text("Purchase saved as Draft.")
    expect(detail.status).to_have_attribute("data-status", "draft")
    expect(detail.lines.get_by_test_id("converted-quantity").first).to_have_text("2.500,00 GRAM")
    expect(detail.total).to_have_text("Rp 900.000,00")  # 300,000 + 450,000 + fee 150,000

    index = IndexPage(supervisor, "supply").open()
    index.search(invoice)
    expect(index.rows).to_have_count(1)
    move_through(
        index,
        invoice,
        [
            ("Pending", "pending", None),
            ("Confirmed", "confirmed", None),
            ("In Transit", "in_transit", None),
            ("Arrived", "arrived", None),
            ("Completed", "completed", "Counted and shelved"),
        ],
    )
    expect(index.row(invoice).get_by_test_id("status-final")).to_be_visible()
    index.row(invoice).get_by_test_id("invoice").click()
    expect(supervisor.get_by_test_id("history-row")).to_have_count(6)
    expect(supervisor.get_by_test_id("history-row").last).to_contain_text("Counted and shelved")


def test_feed_purchase_picks_flocks_of_the_farm_and_is_cancelled_with_a_note(
    supervisor: Page,
) -> None:
    invoice = unique_invoice("PKN")
    form = PurchaseFormPage(supervisor, "feed").open_new()
    create_header(form, invoice, farm="F02")
    flocks = form.field("lines-0-flock").locator("option")
    expect(flocks).to_have_text(
        ["Choose a flock", re.compile("F02-K01-A"), re.compile("F02-K02-A")]
    )
    form.choose("lines-0-flock", "F02-K02-A")
    form.choose("lines-0-item", "BR-1 Starter Crumble")
    form.choose("lines-0-unit", "SAK")
    form.fill(lines__0__quantity="20", lines__0__price="425000")
    form.save()
    expect(DetailPage(supervisor).total).to_have_text("Rp 8.650.000,00")

    index = IndexPage(supervisor, "feed").open(f"?q={invoice}")
    row = index.row(invoice)
    expect(row).to_contain_text("Kandang 2")
    # Cancelling asks for a note first; dismissing the dialog changes nothing.
    control = row.get_by_test_id("status-control")
    control.locator("select[name=status]").select_option(label="Cancelled")
    control.get_by_test_id("status-apply").click()
    expect(control.get_by_test_id("note-dialog")).to_be_visible()
    control.get_by_role("button", name="Cancel").click()
    expect(control.get_by_test_id("note-dialog")).to_be_hidden()
    index.expect_status(invoice, "draft")
    move_through(index, invoice, [("Cancelled", "cancelled", "Supplier out of stock")])


def test_the_detail_page_changes_status_with_the_note_in_view(supervisor: Page) -> None:
    invoice = unique_invoice("DTL")
    form = PurchaseFormPage(supervisor, "supply").open_new()
    create_header(form, invoice)
    form.choose("lines-0-item", "Vitamin Vita Stress")
    form.choose("lines-0-unit", "KG")
    form.fill(lines__0__quantity="1", lines__0__price="50000")
    form.save()
    detail = DetailPage(supervisor)
    here = supervisor.url
    control = supervisor.get_by_test_id("status-control")
    expect(control.get_by_test_id("note-input")).to_be_visible()

    control.locator("select[name=status]").select_option(label="Cancelled")
    control.get_by_test_id("status-apply").click()
    expect(supervisor.get_by_test_id("flash")).to_have_text("A note is required to set Cancelled.")
    expect(detail.status).to_have_attribute("data-status", "draft")

    control.locator("select[name=status]").select_option(label="Cancelled")
    control.get_by_test_id("note-input").fill("Ordered twice")
    control.get_by_test_id("status-apply").click()
    expect(detail.status).to_have_attribute("data-status", "cancelled")
    expect(supervisor).to_have_url(here)
    expect(supervisor.get_by_test_id("history-row").last).to_contain_text("Ordered twice")
    expect(supervisor.get_by_test_id("status-control")).to_have_count(0)


def test_livestock_purchase_with_two_strains_to_completed(supervisor: Page) -> None:
    invoice = unique_invoice("DOC")
    form = PurchaseFormPage(supervisor, "livestock").open_new()
    create_header(form, invoice)
    form.choose("coop", "K01")
    form.fill(
        lines__0__strain="Cobb 500",
        lines__0__head_count="3000",
        lines__0__price="21000000",
        lines__0__weight="40",
    )
    form.choose("lines-0-price_given", "total")
    form.add_line()
    form.fill(
        lines__1__strain="Ross 308",
        lines__1__head_count="1000",
        lines__1__price="7500",
        lines__1__weight="41",
    )
    form.save()
    detail = DetailPage(supervisor)
    expect(detail.lines.locator("tbody tr").first).to_contain_text("Rp 7.000")
    expect(detail.total).to_have_text("Rp 28.650.000,00")

    index = IndexPage(supervisor, "livestock").open(f"?q={invoice}")
    expect(index.row(invoice)).to_contain_text("4.000")
    move_through(
        index,
        invoice,
        [
            ("Arrived", "arrived", None),
            ("In Coop", "in_coop", None),
            ("Completed", "completed", "All chicks placed in K01"),
        ],
    )


def test_validation_errors_sit_beside_their_fields(supervisor: Page) -> None:
    form = PurchaseFormPage(supervisor, "supply").open_new()
    form.fill(notes="keep me", expedition_fee="-5")
    form.save()
    expect(supervisor.get_by_test_id("form-error")).to_contain_text("Nothing was saved")
    expect(supervisor.get_by_test_id("error-invoice_number")).to_have_text(
        "Enter the invoice number."
    )
    expect(supervisor.get_by_test_id("error-farm")).to_have_text("Choose a farm.")
    expect(supervisor.get_by_test_id("error-expedition_fee")).to_have_text("Cannot be negative.")
    expect(form.field("notes")).to_have_value("keep me")


def test_search_filter_and_sort_live_in_the_url(supervisor: Page) -> None:
    index = IndexPage(supervisor, "supply").open()
    index.filter_status("Arrived")
    expect(supervisor).to_have_url(re.compile(r"status=arrived"))
    expect(index.rows.first).to_have_attribute("data-status", "arrived")
    statuses = index.rows.evaluate_all("rows => rows.map(r => r.dataset.status)")
    assert set(statuses) == {"arrived"}

    supervisor.get_by_test_id("sort-total").click()
    expect(supervisor).to_have_url(re.compile(r"sort=total"))
    expect(supervisor.get_by_test_id("sort-total")).to_contain_text("▼")
    supervisor.reload()
    expect(supervisor.get_by_test_id("status-filter")).to_have_value("arrived")
    expect(supervisor.get_by_test_id("sort-total")).to_contain_text("▼")

    index.search("Lembang")
    expect(supervisor).to_have_url(re.compile(r"q=Lembang"))
    expect(index.rows.first).to_contain_text("Lembang")
    expect(supervisor).to_have_url(re.compile(r"status=arrived"))


def test_paging_keeps_the_view(supervisor: Page) -> None:
    index = IndexPage(supervisor, "feed").open("?per_page=10&sort=invoice&dir=asc")
    expect(index.rows).to_have_count(10)
    first_page = index.rows.first.get_by_test_id("invoice").inner_text()
    supervisor.get_by_test_id("page-next").click()
    expect(supervisor.get_by_test_id("page-current")).to_contain_text("Page 2")
    expect(supervisor).to_have_url(re.compile(r"page=2.*sort=invoice|sort=invoice.*page=2"))
    expect(index.rows.first.get_by_test_id("invoice")).not_to_have_text(first_page)


def test_a_stale_row_reports_the_conflict_in_place(supervisor: Page) -> None:
    index = IndexPage(supervisor, "supply").open("?status=draft")
    invoice = index.rows.first.get_by_test_id("invoice").inner_text()
    # Hold this tab's live refreshes, as if two clerks clicked at the same moment.
    held = []
    supervisor.route(table_url("supply"), lambda route: held.append(route))
    other_tab = supervisor.context.new_page()
    other = IndexPage(other_tab, "supply").open("?status=draft")
    other.change_status(invoice, "Pending")
    other.expect_status(invoice, "pending")

    index.change_status(invoice, "Confirmed")
    message = index.row(invoice).get_by_test_id("row-message")
    expect(message).to_contain_text(
        "Someone else changed this purchase meanwhile; it is now Pending."
    )
    index.expect_status(invoice, "pending")
    for route in held:
        route.continue_()
    supervisor.unroute(table_url("supply"))
    other_tab.close()


def test_export_downloads_the_view_as_it_is_filtered(supervisor: Page, tmp_path: Path) -> None:
    """Search, then Export: the files hold the rows the table shows for that search, every
    page of them."""
    index = IndexPage(supervisor, "supply").open()
    index.filter_status("Draft")
    expect(supervisor).to_have_url(re.compile(r"status=draft"))
    shown = int(index.table.get_attribute("data-total") or 0)
    assert shown > 0
    with supervisor.expect_download() as csv_download:
        supervisor.get_by_test_id("export-csv").click()
    assert csv_download.value.suggested_filename.startswith("supply-purchases-")
    path = tmp_path / "view.csv"
    csv_download.value.save_as(path)
    lines = path.read_text(encoding="utf-8-sig").strip().splitlines()
    assert len(lines) == shown + 1  # the header, then every row of the view
    assert all(line.endswith(",Draft") for line in lines[1:])
    with supervisor.expect_download() as xlsx_download:
        supervisor.get_by_test_id("export-xlsx").click()
    assert xlsx_download.value.suggested_filename.endswith(".xlsx")
