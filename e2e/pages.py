"""Page objects: what a clerk does, in the words of the screen."""

from __future__ import annotations

import os
import re
import shutil
import time
from collections.abc import Callable, Iterator
from typing import Any

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Dialog,
    Locator,
    Page,
    Request,
    expect,
)

from purchasing import i18n
from tests.helpers.servers import AppServer

# The browser's locale for each language the app speaks: its Accept-Language follows.
LOCALES = {"en": "en-US", "id": "id-ID"}

# Content-Security-Policy refusals, script errors and alert() calls seen by any page, per test.
BROWSER_PROBLEMS: list[str] = []


def watch_for_problems(page: Page) -> None:
    def on_console(message: ConsoleMessage) -> None:
        text = message.text
        if message.type == "error" and ("Content Security Policy" in text or "Refused to" in text):
            BROWSER_PROBLEMS.append(f"CSP: {text}")

    def on_dialog(dialog: Dialog) -> None:
        # Only alert() is a problem here (an injected script would call it); confirm() belongs
        # to the test that expects it.
        if dialog.type == "alert":
            BROWSER_PROBLEMS.append(f"unexpected alert: {dialog.message}")
            dialog.dismiss()

    page.on("console", on_console)
    page.on("pageerror", lambda error: BROWSER_PROBLEMS.append(f"script error: {error}"))
    page.on("dialog", on_dialog)


def until(check: Callable[[], bool], what: str, timeout_s: float = 10) -> None:
    """Wait until `check()` holds, for an effect no page shows (the server's open streams, which
    tab holds one). Fails after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not seen in {timeout_s:g} s: {what}")
        time.sleep(0.05)  # polling, with a deadline, for an effect with no event


def settled(page: Page) -> None:
    """Wait until htmx has swapped and activated new content (it settles after a delay)."""
    busy = page.locator(".htmx-request, .htmx-swapping, .htmx-settling, .htmx-added")
    expect(busy).to_have_count(0)


def say(language: str, message: str, **values: Any) -> str:
    """`message` as the app words it in `language`, from its own catalog (that every message
    has its translation is tests/unit/test_translations.py)."""
    with i18n.use(language):
        return i18n.gettext(message, **values)


def language_of(page: Page) -> str:
    return str(page.locator("html").get_attribute("lang"))


class LoginPage:
    def __init__(self, page: Page) -> None:
        self.page = page
        watch_for_problems(page)

    def open(self, next_path: str = "") -> LoginPage:
        self.page.goto("/login" + (f"?next={next_path}" if next_path else ""))
        return self

    def submit(self, username: str, password: str) -> None:
        self.page.locator("input[name=username]").fill(username)
        self.page.locator("input[name=password]").fill(password)
        self.page.get_by_role("button", name=say(language_of(self.page), "Log in")).click()

    def login(self, username: str, password: str | None = None) -> None:
        self.open()
        self.submit(username, password or f"{username}-demo")
        expect(self.page.get_by_test_id("current-user")).to_be_visible()


class IndexPage:
    def __init__(self, page: Page, kind: str) -> None:
        self.page = page
        self.kind = kind
        self.table = page.get_by_test_id("purchase-table")
        self.rows = self.table.get_by_test_id("purchase-row")

    def open(self, query: str = "") -> IndexPage:
        self.page.goto(f"/purchases/{self.kind}{query}")
        expect(self.table).to_be_visible()
        return self

    def row(self, invoice: str) -> Locator:
        return self.rows.filter(
            has=self.page.get_by_test_id("invoice").get_by_text(invoice, exact=True)
        )

    def search(self, text: str) -> None:
        self.page.get_by_test_id("search").fill(text)
        self.page.get_by_test_id("search").press("Enter")

    def filter_status(self, label: str) -> None:
        self.page.get_by_test_id("status-filter").select_option(label=label)

    def change_status(self, invoice: str, label: str, note: str | None = None) -> Locator:
        """Pick a move in the row's control; a note goes through the dialog that asks for it."""
        row = self.row(invoice)
        control = row.get_by_test_id("status-control")
        control.locator("select[name=status]").select_option(label=label)
        control.get_by_test_id("status-apply").click()
        if note is not None:
            dialog = control.get_by_test_id("note-dialog")
            expect(dialog).to_be_visible()
            dialog.get_by_test_id("note-input").fill(note)
            dialog.get_by_test_id("note-save").click()
        return row

    def expect_status(self, invoice: str, status: str) -> None:
        expect(self.row(invoice)).to_have_attribute("data-status", status)


class PurchaseFormPage:
    def __init__(self, page: Page, kind: str) -> None:
        self.page = page
        self.kind = kind
        self.form = page.get_by_test_id("purchase-form")

    def open_new(self) -> PurchaseFormPage:
        self.page.goto(f"/purchases/{self.kind}")
        self.page.get_by_test_id("new-purchase").click()
        expect(self.form).to_be_visible()
        return self

    def field(self, name: str) -> Locator:
        return self.form.locator(f'[name="{name}"]')

    def choose(self, name: str, label: str) -> None:
        """Select by visible text; farm and item re-render the form, so wait until it is back."""
        select = self.field(name)
        value = select.locator("option", has_text=label).first.get_attribute("value") or ""
        if select.get_attribute("hx-post"):
            with self.page.expect_response(lambda r: r.request.method == "POST"):
                select.select_option(value=value)
            settled(self.page)
        else:
            select.select_option(value=value)
        expect(self.field(name).locator("option:checked")).to_contain_text(label)

    def fill(self, **values: str) -> None:
        for name, value in values.items():
            self.field(name.replace("__", "-")).fill(value)

    def add_line(self) -> None:
        count = self.form.get_by_test_id("line").count()
        with self.page.expect_response(lambda r: r.request.method == "POST"):
            self.form.get_by_test_id("add-line").click()
        settled(self.page)
        expect(self.form.get_by_test_id("line")).to_have_count(count + 1)

    def save(self) -> None:
        self.form.get_by_test_id("save-purchase").click()


class DetailPage:
    def __init__(self, page: Page) -> None:
        self.page = page
        self.status = page.get_by_test_id("purchase-status")
        self.lines = page.get_by_test_id("detail-lines")
        self.total = page.get_by_test_id("grand-total")
        self.history = page.get_by_test_id("history-row")
        self.control = page.get_by_test_id("status-control")
        self.note = self.control.get_by_test_id("note-input")
        self.deleted = page.get_by_test_id("purchase-deleted")

    def open(self, kind: str, purchase_id: int) -> DetailPage:
        """Open the page and wait until its stream is live."""
        self.page.goto(f"/purchases/{kind}/{purchase_id}")
        expect(self.page.get_by_test_id("connection-status")).to_have_attribute(
            "data-state", "live"
        )
        return self

    def moves(self) -> list[str]:
        return self.control.locator(
            "select[name=status] option[value]:not([value=''])"
        ).all_inner_texts()

    def move(self, label: str, note: str = "") -> None:
        """Apply a move with the page's plain form (the page comes back reloaded)."""
        self.control.locator("select[name=status]").select_option(label=label)
        if note:
            self.note.fill(note)
        with self.page.expect_navigation():
            self.control.get_by_test_id("status-apply").click()

    def delete(self) -> None:
        self.page.once("dialog", lambda dialog: dialog.accept())
        with self.page.expect_navigation():
            self.page.get_by_test_id("delete-purchase").click()


CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def system_chromium() -> str | None:
    """A Chromium installed by the system, unless Playwright's own browser should be used."""
    explicit = os.environ.get("CHROMIUM_EXECUTABLE")
    if explicit:
        return explicit
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return None


# Before a test's own pages are read: Web Locks gone, as in a browser without them.
WITHOUT_WEB_LOCKS = "Object.defineProperty(Navigator.prototype, 'locks', {get: () => undefined})"
HOLDS_STREAM = "() => document.querySelectorAll('[sse-connect]').length"


def table_url(kind: str) -> re.Pattern[str]:
    """The address a live table refreshes from: its index page, which answers htmx with only
    the table. For `page.route`, which sees addresses only; nothing navigates while routed."""
    return re.compile(rf"/purchases/{kind}(\?|$)")


def is_table_refresh(request: Request, kind: str) -> bool:
    return bool(table_url(kind).search(request.url)) and request.headers.get("hx-request") == "true"


def sign_in(page: Page, username: str) -> None:
    """`username` signed in on `page`'s browser, then on the home page. The form is posted as a
    browser posts it, without loading the login page first: a test's set-up, not its subject
    (the login page's own journeys are in test_login.py)."""
    context = page.context
    context.request.get("/login")  # its CSRF cookie
    token = next(cookie["value"] for cookie in context.cookies() if cookie["name"] == "csrftoken")
    answer = context.request.post(
        "/login",
        form={"username": username, "password": f"{username}-demo"},
        headers={"x-csrftoken": token},
        max_redirects=0,
    )
    assert answer.status == 303, answer.text()[:500]
    page.goto("/")
    expect(page.get_by_test_id("current-user")).to_be_visible()


def open_as(browser: Browser, base_url: str, username: str, language: str = "en") -> Page:
    """`username` signed in, in a browser of their own whose language is `language`."""
    page = new_tab(browser.new_context(base_url=base_url, locale=LOCALES[language]))
    sign_in(page, username)
    return page


def two_people(browser: Browser, base_url: str, a: str, b: str) -> Iterator[tuple[Page, Page]]:
    """Two people signed in, each in a browser of their own (for a fixture to yield from)."""
    pages = open_as(browser, base_url, a), open_as(browser, base_url, b)
    yield pages
    for page in pages:
        page.context.close()


def watch(page: Page, kind: str, query: str) -> IndexPage:
    """Open an index page and wait until its stream is live."""
    index = IndexPage(page, kind).open(query)
    expect(page.get_by_test_id("connection-status")).to_have_attribute("data-state", "live")
    page.evaluate("window.__sameDocument = true")
    return index


def open_streams(server: AppServer, expected: int) -> None:
    """Wait until the server holds `expected` event streams (closed tabs end theirs a moment
    after the browser drops them)."""

    until(lambda: server.health()["streams"] == expected, f"{expected} open streams")


def signed_in(browser: Browser, base_url: str, username: str, script: str = "") -> Page:
    context = browser.new_context(base_url=base_url)
    if script:
        context.add_init_script(script=script)
    page = new_tab(context)
    sign_in(page, username)
    return page


def new_tab(context: BrowserContext) -> Page:
    page = context.new_page()
    watch_for_problems(page)
    return page


def index_tab(context: BrowserContext, kind: str, query: str = "") -> IndexPage:
    index = IndexPage(new_tab(context), kind).open(query)
    expect(index.page.get_by_test_id("connection-status")).to_have_attribute("data-state", "live")
    return index


def the_holder(pages: list[Page]) -> Page:
    holders: list[Page] = []

    def one() -> bool:
        holders[:] = [page for page in pages if page.evaluate(HOLDS_STREAM) == 1]
        return len(holders) == 1

    until(one, "exactly one tab holding the stream")
    return holders[0]


def toasts_shown(index: IndexPage, count: int) -> None:
    expect(index.page.get_by_test_id("toasts")).to_have_attribute("data-shown", str(count))


# Moves a Supervisor (or anyone above) can make round and round on a fresh draft.
CYCLE = [
    ("Pending", "pending"),
    ("Confirmed", "confirmed"),
    ("In Transit", "in_transit"),
    ("Draft", "draft"),
]

# Records when a status control's Apply is clicked, as window.__clickedAt.
RECORD_CLICK = """() => document.addEventListener("click", (e) => {
  if (e.target.closest("[data-testid=status-apply]")) window.__clickedAt = Date.now();
}, true)"""


AXE = Axe()
SERIOUS = ("serious", "critical")


def axe_violations(page: Page) -> list[str]:
    """Each serious or critical violation: its rule, and the first element it names."""
    found: list[dict[str, Any]] = AXE.run(page).response["violations"]
    return [
        f"{v['id']} ({v['impact']}): {v['nodes'][0]['target']} {v['help']}"
        for v in found
        if v["impact"] in SERIOUS
    ]
