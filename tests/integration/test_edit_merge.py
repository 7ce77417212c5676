"""Two clerks editing one purchase: a save after someone else's merges the two (services/merge.py)
instead of throwing away what was typed, conflicts come back marked, and the stale banner says
who changed what. Each clerk's form is read from the page and sent back as a browser would."""

from __future__ import annotations

import html
from typing import Any

import pytest

from purchasing.tables import Purchase, SupplyLine
from tests.helpers.app import Clerk, LiveApp, signed_in
from tests.helpers.databases import SQLITE_ONLY
from tests.helpers.demo import move
from tests.helpers.forms import form_fields, header, ids


@pytest.fixture
async def two(live: LiveApp) -> tuple[Clerk, Clerk]:
    """Two clerks of the same company: the Manager saves first, the Admin after."""
    return await signed_in(live, "manager"), await signed_in(live, "admin")


async def two_line_draft(clerk: Clerk) -> int:
    """A fresh supply draft with two lines."""
    ref = await ids()
    data = header(
        ref,
        invoice=f"INV/MERGE/{id(clerk)}",
        **{
            "lines-0-item": ref["OVK-VIT"],
            "lines-0-unit": ref["KG"],
            "lines-0-quantity": "2",
            "lines-0-price": "120000",
            "lines-1-item": ref["OVK-DES"],
            "lines-1-unit": ref["LITER"],
            "lines-1-quantity": "4",
            "lines-1-price": "85000",
        },
    )
    response = await clerk.post("/purchases/supply/new", data)
    assert response.status_code == 303, response.text
    return int(response.headers["location"].rsplit("/", 1)[1])


async def opened(clerk: Clerk, purchase_id: int) -> dict[str, str]:
    page = await clerk.get(f"/purchases/supply/{purchase_id}/edit")
    assert page.status_code == 200
    fields = form_fields(page.text)
    assert fields["base"]
    assert fields["version"]
    return fields


async def save(clerk: Clerk, purchase_id: int, fields: dict[str, str], **changes: str) -> Any:
    return await clerk.post(
        f"/purchases/supply/{purchase_id}/edit", {**fields, **changes, "action": "save"}
    )


async def stored(purchase_id: int) -> dict[str, Any]:
    row = await Purchase.select().where(Purchase.id == purchase_id).first()
    assert row is not None
    return dict(row)


async def lines(purchase_id: int) -> list[dict[str, Any]]:
    return list(
        await SupplyLine.select(SupplyLine.id, SupplyLine.quantity, SupplyLine.price_per_unit)
        .where(SupplyLine.purchase == purchase_id)
        .order_by(SupplyLine.position)
    )


@SQLITE_ONLY  # the same merge and messages on either engine
async def test_fields_changed_on_different_sides_are_both_saved(two: tuple[Clerk, Clerk]) -> None:
    manager, admin = two
    pid = await two_line_draft(admin)
    first, second = await opened(manager, pid), await opened(admin, pid)
    ref = await ids()
    assert (await save(manager, pid, first, notes="Kirim sore")).status_code == 303
    answer = await save(admin, pid, second, supplier=str(ref["SUP02"]))
    assert answer.status_code == 303
    after = await stored(pid)
    assert (after["notes"], after["supplier"], after["version"]) == ("Kirim sore", ref["SUP02"], 3)
    detail = await admin.get(answer.headers["location"])
    assert "together with Manager&#39;s changes to the notes" in detail.text


async def test_lines_merge_line_by_line_and_keep_their_ids(two: tuple[Clerk, Clerk]) -> None:
    manager, admin = two
    pid = await two_line_draft(admin)
    ids_before = [line["id"] for line in await lines(pid)]
    first, second = await opened(manager, pid), await opened(admin, pid)
    assert (await save(manager, pid, first, **{"lines-0-quantity": "3"})).status_code == 303
    assert [line["id"] for line in await lines(pid)] == ids_before
    assert (await save(admin, pid, second, **{"lines-1-price": "90000"})).status_code == 303
    after = await lines(pid)
    assert [line["id"] for line in after] == ids_before
    assert [(float(x["quantity"]), float(x["price_per_unit"])) for x in after] == [
        (3, 120000),
        (4, 90000),
    ]
    assert (await stored(pid))["grand_total"] == 3 * 120000 + 4 * 90000 + 150000


async def test_a_field_changed_on_both_sides_comes_back_marked_and_saves_when_sent_again(
    two: tuple[Clerk, Clerk],
) -> None:
    manager, admin = two
    pid = await two_line_draft(admin)
    first, second = await opened(manager, pid), await opened(admin, pid)
    assert (await save(manager, pid, first, notes="Kirim sore")).status_code == 303
    clash = await save(
        admin, pid, second, notes="Kirim pagi", **{"lines-0-quantity": "5", "lines-1-price": "1"}
    )
    assert clash.status_code == 409
    assert (await stored(pid))["version"] == 2  # nothing saved
    text = html.unescape(clash.text)
    assert "Manager saved this purchase at" in text
    assert "1 field was changed by both of you" in text
    assert 'data-testid="error-notes">Manager saved “Kirim sore” here.' in text
    again = form_fields(clash.text)
    assert (again["notes"], again["lines-0-quantity"], again["lines-1-price"]) == (
        "Kirim pagi",
        "5",
        "1",
    )
    assert again["version"] == "2"
    assert (await save(admin, pid, again)).status_code == 303
    after = await stored(pid)
    assert (after["notes"], after["version"]) == ("Kirim pagi", 3)
    assert [float(x["quantity"]) for x in await lines(pid)] == [5, 4]


@SQLITE_ONLY  # the same merge and messages on either engine
async def test_a_line_changed_on_both_sides_is_marked_on_that_line(
    two: tuple[Clerk, Clerk],
) -> None:
    manager, admin = two
    pid = await two_line_draft(admin)
    first, second = await opened(manager, pid), await opened(admin, pid)
    assert (await save(manager, pid, first, **{"lines-1-quantity": "6"})).status_code == 303
    clash = await save(admin, pid, second, **{"lines-1-quantity": "7"})
    assert clash.status_code == 409
    assert 'data-testid="error-lines-1-quantity">Manager saved “6” here.' in html.unescape(
        clash.text
    )
    assert form_fields(clash.text)["lines-1-quantity"] == "7"


@SQLITE_ONLY  # the same merge and messages on either engine
async def test_a_purchase_closed_meanwhile_keeps_the_typed_form_and_saves_nothing(
    two: tuple[Clerk, Clerk],
) -> None:
    manager, admin = two
    pid = await two_line_draft(admin)
    typed = await opened(admin, pid)
    for status in ("pending", "confirmed", "in_transit", "arrived"):
        assert (await move(manager, "supply", pid, status)).status_code == 200
    answer = await save(admin, pid, typed, notes="Catatan yang panjang")
    assert answer.status_code == 409
    text = html.unescape(answer.text)
    assert "Manager moved this purchase to Arrived at" in text
    assert "can no longer be edited" in text
    assert form_fields(answer.text)["notes"] == "Catatan yang panjang"
    assert (await stored(pid))["notes"] == "urgent"


@SQLITE_ONLY  # the same merge and messages on either engine
async def test_a_purchase_deleted_meanwhile_keeps_the_typed_form(
    two: tuple[Clerk, Clerk],
) -> None:
    manager, admin = two
    pid = await two_line_draft(admin)
    typed = await opened(admin, pid)
    before = await stored(pid)
    deleted = await manager.post(f"/purchases/supply/{pid}/delete", {"version": before["version"]})
    assert deleted.status_code == 303
    answer = await save(admin, pid, typed, notes="Masih saya ketik")
    assert answer.status_code == 409
    assert "Manager deleted this purchase at" in answer.text
    assert form_fields(answer.text)["notes"] == "Masih saya ketik"


@SQLITE_ONLY  # the same merge and messages on either engine
async def test_the_stale_banner_says_who_changed_what_and_only_to_those_who_may_see(
    live: LiveApp, two: tuple[Clerk, Clerk]
) -> None:
    manager, admin = two
    pid = await two_line_draft(admin)
    typed = await opened(admin, pid)
    url = f"/purchases/supply/{pid}/edit/changes"
    asked = {"base": typed["base"], "version": typed["version"]}
    quiet = await admin.post(url, asked, htmx=True)
    assert quiet.status_code == 200
    assert 'data-testid="stale-banner"' in quiet.text
    assert " hidden>" in quiet.text

    first = await opened(manager, pid)
    assert (await save(manager, pid, first, notes="x", **{"lines-0-price": "1"})).status_code == 303
    banner = await admin.post(url, asked, htmx=True)
    assert "Manager</strong> changed this purchase at" in banner.text
    assert 'data-testid="stale-fields">notes and lines</span>' in banner.text
    assert " hidden>" not in banner.text

    for username in ("admin2", "operator4"):
        stranger = await signed_in(live, username)
        answer = await stranger.post(url, asked, htmx=True)
        assert answer.status_code in (403, 404), username
        assert "Manager" not in answer.text
    anonymous = Clerk(live.client())
    await anonymous.client.get("/login")
    assert (await anonymous.post(url, asked, htmx=True)).status_code in (401, 303)
    bad = await admin.post(url, {"base": "{not json", "version": "x"}, htmx=True)
    assert bad.status_code == 400
    assert "reload the page" in bad.text
