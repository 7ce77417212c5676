"""Edit forms that never lose work, across two browsers: the stale banner while editing, a save
that merges silently, and a conflict marked, resolved and saved."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from e2e.pages import PurchaseFormPage, two_people
from tests.helpers.servers import LiveServer


@pytest.fixture
def clerks(browser: Browser, base_url: str) -> Iterator[tuple[Page, Page]]:
    """A (manager) saves first; B (admin) is editing the same purchase."""
    yield from two_people(browser, base_url, "manager", "admin")


def editing(page: Page, kind: str, purchase_id: int) -> PurchaseFormPage:
    form = PurchaseFormPage(page, kind)
    page.goto(f"/purchases/{kind}/{purchase_id}/edit")
    expect(page.get_by_test_id("connection-status")).to_have_attribute("data-state", "live")
    return form


def save_and_arrive(form: PurchaseFormPage) -> None:
    with form.page.expect_navigation():
        form.save()
    expect(form.page.get_by_test_id("purchase-status")).to_be_visible()


def test_the_stale_banner_shows_and_a_save_merges_both_changes(
    clerks: tuple[Page, Page], live_server: LiveServer
) -> None:
    a, b = clerks
    purchase_id = live_server.purchase_id(live_server.fresh_purchase("supply"))
    form_b = editing(b, "supply", purchase_id)
    banner = b.get_by_test_id("stale-banner")
    expect(banner).to_be_hidden()
    form_b.field("notes").fill("Diterima Pak Dedi di gerbang")

    form_a = editing(a, "supply", purchase_id)
    form_a.field("expedition_fee").fill("175000")
    save_and_arrive(form_a)

    expect(banner).to_be_visible()
    expect(banner).to_contain_text("Manager")
    expect(banner.get_by_test_id("stale-fields")).to_have_text("expedition fee")
    expect(form_b.field("notes")).to_have_value("Diterima Pak Dedi di gerbang")

    save_and_arrive(form_b)
    expect(b.get_by_test_id("flash")).to_contain_text("together with Manager's changes")
    expect(b.get_by_text("Diterima Pak Dedi di gerbang")).to_be_visible()
    expect(b.get_by_text("Rp 175.000")).to_be_visible()


def test_a_conflict_is_marked_then_resolved_and_saved(
    clerks: tuple[Page, Page], live_server: LiveServer
) -> None:
    a, b = clerks
    purchase_id = live_server.purchase_id(live_server.fresh_purchase("supply"))
    form_b = editing(b, "supply", purchase_id)
    form_b.field("notes").fill("Kirim pagi")

    form_a = editing(a, "supply", purchase_id)
    form_a.field("notes").fill("Kirim sore")
    save_and_arrive(form_a)
    expect(b.get_by_test_id("stale-banner")).to_be_visible()

    form_b.save()
    expect(b.get_by_test_id("form-error")).to_contain_text("changed by both of you")
    expect(b.get_by_test_id("error-notes")).to_contain_text("Manager saved “Kirim sore”")
    expect(form_b.field("notes")).to_have_value("Kirim pagi")

    form_b.field("notes").fill("Kirim pagi, atau sore bila hujan")
    save_and_arrive(form_b)
    expect(b.get_by_text("Kirim pagi, atau sore bila hujan")).to_be_visible()
