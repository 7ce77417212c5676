"""The language a person reads: chosen by Accept-Language, changed by the header's switch,
remembered on the account; the table fragment is kept apart per language; live events stay one
encoding for every reader, whatever their language."""

from __future__ import annotations

import html
import re

import httpx
import pytest

from purchasing.tables import AppUser
from tests.helpers.app import Clerk, LiveApp, signed_in
from tests.helpers.databases import SQLITE_ONLY
from tests.helpers.demo import a_purchase, move, user_id
from tests.helpers.hostile import HOSTILE, record
from tests.helpers.sse import open_stream
from tests.helpers.words import english_in

INDONESIAN = {"Accept-Language": "id-ID,id;q=0.9,en-US;q=0.8"}
ENGLISH = {"Accept-Language": "en-US,en;q=0.9"}
LANG = re.compile(r'<html lang="(\w+)"')


def language_of(response: httpx.Response) -> str:
    found = LANG.search(response.text)
    assert found, response.text[:300]
    return found.group(1)


async def choose(
    clerk: Clerk, language: str, next_url: str = "/purchases/supply"
) -> httpx.Response:
    response: httpx.Response = await clerk.post(
        "/language", {"language": language, "next": next_url}
    )
    return response


async def account_language(username: str) -> str:
    row = (
        await AppUser.select(AppUser.language).where(AppUser.id == await user_id(username)).first()
    )
    assert row is not None
    return str(row["language"])


@SQLITE_ONLY  # wording and rendering, not storage
async def test_a_visitor_reads_the_login_page_in_their_browsers_language(
    anonymous: Clerk,
) -> None:
    indonesian = await anonymous.get("/login", headers=INDONESIAN)
    assert language_of(indonesian) == "id"
    assert "Nama pengguna" in indonesian.text
    assert "Kata sandi" in indonesian.text
    assert re.search(r'data-testid="language-id"\s+aria-pressed="true"', indonesian.text)
    english = await anonymous.get("/login", headers=ENGLISH)
    assert language_of(english) == "en"
    assert "Username" in english.text
    assert "Nama pengguna" not in english.text
    # No header at all: the deployment's default (DEFAULT_LANGUAGE, English unless set).
    assert language_of(await anonymous.get("/login")) == "en"


async def test_the_switch_changes_the_language_and_the_account_remembers_it(
    live: LiveApp, admin: Clerk
) -> None:
    assert language_of(await admin.get("/purchases/supply", headers=ENGLISH)) == "en"
    response = await choose(admin, "id", "/purchases/feed?status=draft")
    assert response.status_code == 303
    assert response.headers["location"] == "/purchases/feed?status=draft"
    assert "language=id" in response.headers["set-cookie"]
    page = await admin.get("/purchases/feed?status=draft", headers=ENGLISH)
    assert language_of(page) == "id"  # the choice wins over the browser's header
    assert ">Draf<" in page.text
    assert "Pembelian" in page.text
    assert await account_language("admin") == "id"

    # Another device, no cookie, an English browser: the account's choice still holds.
    elsewhere = await signed_in(live, "admin")
    try:
        assert language_of(await elsewhere.get("/purchases/supply", headers=ENGLISH)) == "id"
        assert (await choose(elsewhere, "en")).status_code == 303
        assert await account_language("admin") == "en"
        assert language_of(await elsewhere.get("/purchases/supply", headers=INDONESIAN)) == "en"
    finally:
        await elsewhere.client.aclose()


@SQLITE_ONLY  # wording and rendering, not storage
async def test_a_visitor_can_switch_before_signing_in(anonymous: Clerk) -> None:
    await anonymous.get("/login")
    response = await choose(anonymous, "id", "/login")
    assert (response.status_code, response.headers["location"]) == (303, "/login")
    assert language_of(await anonymous.get("/login", headers=ENGLISH)) == "id"


async def test_a_bad_choice_gets_a_clear_400_and_changes_nothing(admin: Clerk) -> None:
    for value in ["fr", "ID ", "english", *HOSTILE]:
        response = await choose(admin, value)
        record("POST /language", response)
        assert response.status_code == 400, value
        assert "Bahasa Indonesia, English" in response.text
        assert (
            "set-cookie" not in response.headers
            or "language=" not in response.headers["set-cookie"]
        )
    assert await account_language("admin") == ""
    forged = await admin.post("/language", {"language": "id"}, csrf=False)
    assert forged.status_code == 403
    assert await account_language("admin") == ""
    # Back to this site only, never to another (no open redirect).
    elsewhere = await choose(admin, "id", "https://evil.example/")
    assert elsewhere.headers["location"] == "/purchases/supply"


@SQLITE_ONLY  # wording and rendering, not storage
async def test_rule_messages_and_statuses_come_in_the_readers_language(admin: Clerk) -> None:
    await choose(admin, "id")
    p = await a_purchase("supply", "arrived")
    response = await admin.post(
        f"/purchases/supply/{p['id']}/status",
        {"status": "completed", "version": p["version"], "notes": ""},
        htmx=True,
    )
    assert response.status_code == 422
    assert "Catatan wajib diisi untuk menetapkan Selesai." in response.text
    assert "A note is required" not in response.text
    missing = await admin.get("/purchases/supply/987654321")
    assert missing.status_code == 404
    assert language_of(missing) == "id"


@SQLITE_ONLY  # wording and rendering, not storage
async def test_the_table_fragment_is_kept_apart_per_language(admin: Clerk) -> None:
    url = "/purchases/supply?status=draft"  # for htmx, only the table
    english = await admin.get(url, htmx=True, headers=ENGLISH)
    assert english.status_code == 200
    assert ">Draft<" in english.text
    await choose(admin, "id")
    asked_again = await admin.get(
        url, htmx=True, headers={**ENGLISH, "If-None-Match": english.headers["etag"]}
    )
    assert asked_again.status_code == 200  # not the English view's 304
    assert ">Draf<" in asked_again.text
    assert ">Draft<" not in asked_again.text


async def test_an_event_is_one_encoding_for_readers_of_both_languages(
    live: LiveApp, admin: Clerk
) -> None:
    reader = await signed_in(live, "manager")
    try:
        await choose(reader, "id")
        p = await a_purchase("supply", "draft")
        async with (
            open_stream(admin.client, headers=ENGLISH) as english,
            open_stream(reader.client, headers=INDONESIAN) as indonesian,
        ):
            await english.next()
            await indonesian.next()
            assert (await move(admin, "supply", p["id"], "pending")).status_code == 200
            read_en, read_id = await english.next_event(), await indonesian.next_event()
        assert (read_en.id, read_en.event, read_en.data) == (
            read_id.id,
            read_id.event,
            read_id.data,
        )
        data = read_id.json
        # The page words its toast from these fields, in its own language.
        assert (data["action"], data["old_status"], data["new_status"]) == (
            "status_changed",
            "draft",
            "pending",
        )
    finally:
        await reader.client.aclose()


@SQLITE_ONLY  # wording and rendering, not storage
@pytest.mark.parametrize(
    ("headers", "word"), [(INDONESIAN, '"pending": "Tertunda"'), (ENGLISH, '"pending": "Pending"')]
)
async def test_the_page_gives_its_scripts_their_words(
    admin: Clerk, headers: dict[str, str], word: str
) -> None:
    page = await admin.get("/purchases/supply", headers=headers)
    words = re.search(r"<meta name=\"page-words\" content='(.*?)'>", page.text)
    assert words is not None
    assert word in html.unescape(words.group(1))


# The product's name stays as it is in every language.
PRODUCT_NAME = frozenset({"purchasing", "live"})


@SQLITE_ONLY  # wording and rendering, not storage
async def test_every_page_reads_in_indonesian(anonymous: Clerk, live: LiveApp) -> None:
    """No English left on the pages a clerk opens, read in Indonesian: login, each module's
    index, a draft's detail and edit form, the new form, the monitor, and the error pages (an
    unknown purchase, an address no route answers)."""
    pages = {"/login": await anonymous.get("/login", headers=INDONESIAN)}
    clerk = await signed_in(live, "admin")
    try:
        for kind in ("supply", "feed", "livestock"):
            draft = await a_purchase(kind, "draft")
            for path in (
                f"/purchases/{kind}",
                f"/purchases/{kind}/{draft['id']}",
                f"/purchases/{kind}/{draft['id']}/edit",
                f"/purchases/{kind}/new",
            ):
                pages[path] = await clerk.get(path, headers=INDONESIAN)
        for path in ("/admin/monitor", "/purchases/supply/987654321", "/no/such/page"):
            pages[path] = await clerk.get(path, headers=INDONESIAN)
    finally:
        await clerk.client.aclose()
    left = {
        path: sorted(english_in(response.text, PRODUCT_NAME)) for path, response in pages.items()
    }
    assert {path: words for path, words in left.items() if words} == {}
    assert {path: language_of(response) for path, response in pages.items()} == dict.fromkeys(
        pages, "id"
    )
