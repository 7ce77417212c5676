"""The clerk's main journey in Bahasa Indonesia and in English: the browser's language chooses
the app's, every step reads in it, and a clerk watching in the other language gets each change
worded in their own."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from e2e.pages import LOCALES, IndexPage, LoginPage, PurchaseFormPage, language_of, open_as, say
from e2e.pages import watch as watch_index

OTHER = {"en": "id", "id": "en"}
# A few words as the Indonesian office reads them, written out: the catalog is not trusted to
# check itself.
INDONESIAN = {"Log in": "Masuk", "Pending": "Tertunda", "Arrived": "Tiba", "Completed": "Selesai"}


@pytest.fixture(params=["id", "en"])
def language(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def clerk(browser: Browser, base_url: str, language: str) -> Iterator[Page]:
    page = browser.new_context(base_url=base_url, locale=LOCALES[language]).new_page()
    yield page
    page.context.close()


def test_the_main_journey_reads_in_the_browsers_language(
    clerk: Page, browser: Browser, base_url: str, language: str
) -> None:
    def words(message: str, **values: str) -> str:
        return say(language, message, **values)

    login = LoginPage(clerk).open()
    assert language_of(clerk) == language
    if language == "id":
        expect(clerk.get_by_role("button", name=INDONESIAN["Log in"])).to_be_visible()
    login.login("supervisor")

    invoice = f"OVK/{language.upper()}/{uuid.uuid4().hex[:8].upper()}"
    form = PurchaseFormPage(clerk, "supply").open_new()
    form.fill(invoice_number=invoice, do_number="DO-1", expedition_fee="0")
    form.choose("farm", "F01")
    form.choose("supplier", "PT Medion Farma Jaya")
    form.choose("expedition", "CV Ekspedisi Cepat Sampai")
    form.choose("lines-0-item", "Vitamin Vita Stress")
    form.choose("lines-0-unit", "KG")
    form.fill(lines__0__quantity="1", lines__0__price="1000")
    form.save()
    expect(clerk.get_by_test_id("flash")).to_have_text(words("Purchase saved as Draft."))

    watcher = open_as(browser, base_url, "manager", OTHER[language])
    try:
        seen = watch_index(watcher, "supply", f"?q={invoice}")
        index = watch_index(clerk, "supply", f"?q={invoice}")
        steps = [("Pending", "pending", None), ("Arrived", "arrived", None)]
        steps.append(("Completed", "completed", "Dihitung dan disimpan di gudang"))
        before = "Draft"
        for label, value, note in steps:
            shown = words(label)
            if language == "id":
                assert shown == INDONESIAN[label]
            index.change_status(invoice, shown, note)
            index.expect_status(invoice, value)
            expect(index.row(invoice).get_by_test_id("row-message")).to_contain_text(
                words("%(invoice)s is now %(status)s.", invoice=invoice, status=shown)
            )
            # The other clerk's toast is worded in the other clerk's language.
            theirs = OTHER[language]
            moved = f"{say(theirs, before)} → {say(theirs, label)}"
            expect(watcher.get_by_test_id("toast").last).to_contain_text(moved)
            seen.expect_status(invoice, value)
            before = label
        expect(clerk.get_by_test_id("connection-status")).to_have_text(words("Live"))
        expect(watcher.get_by_test_id("connection-status")).to_have_text(
            say(OTHER[language], "Live")
        )
    finally:
        watcher.context.close()


@pytest.mark.parametrize("language", ["en"])
def test_the_switch_on_the_login_page_changes_the_language(clerk: Page, language: str) -> None:
    """An English browser switched to Indonesian before signing in: the choice holds for the
    pages after (this browser's choice; the account's is tests/integration/test_language.py)."""
    LoginPage(clerk).open()
    other = OTHER[language]
    clerk.get_by_test_id("language-switch").get_by_test_id(f"language-{other}").click()
    expect(clerk.locator("html")).to_have_attribute("lang", other)
    expect(clerk.get_by_test_id(f"language-{other}")).to_have_attribute("aria-pressed", "true")
    LoginPage(clerk).login("operator")
    index = IndexPage(clerk, "feed").open()
    expect(clerk.locator("html")).to_have_attribute("lang", other)
    expect(index.table.locator("thead")).to_contain_text(say(other, "Supplier"))
