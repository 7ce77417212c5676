"""Create and edit forms: good input saves, bad input explains itself and saves nothing."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest

from purchasing.tables import FeedLine, LivestockLine, Purchase, StatusHistory, SupplyLine
from tests.helpers.app import Clerk
from tests.helpers.databases import SQLITE_ONLY
from tests.helpers.demo import a_purchase
from tests.helpers.forms import (
    count,
    field_value,
    form_fields,
    header,
    ids,
    options,
    second_line,
    valid_lines,
)


def purchase_id(location: str) -> int:
    match = re.fullmatch(r"/purchases/\w+/(\d+)", location)
    assert match, location
    return int(match.group(1))


async def test_create_supply_converts_units_on_the_server(admin: Clerk) -> None:
    ref = await ids()
    data = header(
        ref,
        **{
            "lines-0-item": ref["OVK-VIT"],
            "lines-0-unit": ref["KG"],
            "lines-0-quantity": "2.5",
            "lines-0-price": "120000",
            "lines-1-item": ref["OVK-VIT"],
            "lines-1-unit": ref["GRAM"],
            "lines-1-quantity": "500",
            "lines-1-price": "150",
        },
    )
    response = await admin.post("/purchases/supply/new", data)
    assert response.status_code == 303
    pid = purchase_id(response.headers["location"])
    purchase = await Purchase.select().where(Purchase.id == pid).first()
    assert (purchase["status"], purchase["version"], purchase["kind"]) == ("draft", 1, "supply")
    # 2.5 KG x 120,000 + 500 GRAM x 150 + expedition fee 150,000
    assert purchase["grand_total"] == Decimal("525000.00")
    lines = (
        await SupplyLine.select().where(SupplyLine.purchase == pid).order_by(SupplyLine.position)
    )
    assert [line["converted_quantity"] for line in lines] == [
        Decimal("2500.0000"),
        Decimal("500.0000"),
    ]
    assert [line["price_per_converted_unit"] for line in lines] == [
        Decimal("120.0000"),
        Decimal("150.0000"),
    ]
    history = await StatusHistory.select().where(StatusHistory.purchase == pid)
    assert [(h["from_status"], h["to_status"]) for h in history] == [(None, "draft")]
    page = await admin.get(response.headers["location"])
    assert "Rp 525.000,00" in page.text
    assert "2.500,00 GRAM" in page.text


async def test_create_feed_ties_each_line_to_a_flock(admin: Clerk) -> None:
    ref = await ids()
    data = header(
        ref,
        **{
            "lines-0-flock": ref["F01-K02-A"],
            "lines-0-item": ref["PKN-BR1"],
            "lines-0-unit": ref["SAK"],
            "lines-0-quantity": "10",
            "lines-0-price": "425000",
        },
    )
    response = await admin.post("/purchases/feed/new", data)
    assert response.status_code == 303
    pid = purchase_id(response.headers["location"])
    (line,) = await FeedLine.select().where(FeedLine.purchase == pid)
    assert (line["flock"], line["converted_quantity"]) == (ref["F01-K02-A"], Decimal("500000.0000"))
    table = (await admin.get("/purchases/feed?q=INV/TEST/1", htmx=True)).text
    assert "Kandang 2" in table


async def test_create_livestock_derives_per_head_and_totals(admin: Clerk) -> None:
    ref = await ids()
    data = header(
        ref,
        coop=ref["F01-K01"],
        **{
            "lines-0-strain": "Cobb 500",
            "lines-0-head_count": "3000",
            "lines-0-price_given": "total",
            "lines-0-price": "21000000",
            "lines-0-weight_given": "per_head",
            "lines-0-weight": "40",
            "lines-0-tax_percent": "11",
            "lines-1-strain": "Ross 308",
            "lines-1-head_count": "1000",
            "lines-1-price_given": "per_head",
            "lines-1-price": "7500",
            "lines-1-weight_given": "total",
            "lines-1-weight": "41000",
            "lines-1-tax_percent": "0",
        },
    )
    response = await admin.post("/purchases/livestock/new", data)
    assert response.status_code == 303
    pid = purchase_id(response.headers["location"])
    lines = (
        await LivestockLine.select()
        .where(LivestockLine.purchase == pid)
        .order_by(LivestockLine.position)
    )
    assert [(line["price_per_head"], line["price_total"]) for line in lines] == [
        (Decimal(7000), Decimal(21000000)),
        (Decimal(7500), Decimal(7500000)),
    ]
    assert [(line["weight_per_head_g"], line["weight_total_g"]) for line in lines] == [
        (Decimal(40), Decimal(120000)),
        (Decimal(41), Decimal(41000)),
    ]
    purchase = await Purchase.select().where(Purchase.id == pid).first()
    assert purchase["head_count"] == 4000
    assert purchase["tax_total"] == Decimal(2310000)
    assert purchase["grand_total"] == Decimal(21000000 + 7500000 + 2310000 + 150000)
    table = (await admin.get("/purchases/livestock?q=INV/TEST/1", htmx=True)).text
    assert "4.000" in table
    assert "Rp 7.125" in table  # 28,500,000 / 4,000 heads


async def test_bad_input_keeps_the_values_shows_each_error_and_saves_nothing(admin: Clerk) -> None:
    ref = await ids()
    before = await count("supply")
    data = header(
        ref,
        invoice="",
        expedition_fee="-1",
        **{
            "lines-0-item": ref["OVK-VIT"],
            "lines-0-unit": ref["VIAL"],
            "lines-0-quantity": "lots",
            "lines-0-price": "1500",
        },
    )
    data["notes"] = "keep this note"
    response = await admin.post("/purchases/supply/new", data)
    assert response.status_code == 422
    html = response.text
    assert "Nothing was saved" in html
    assert 'data-testid="error-invoice_number">Enter the invoice number.' in html
    assert 'data-testid="error-expedition_fee">Cannot be negative.' in html
    assert 'data-testid="error-lines-0-unit">Choose a unit of this item from the list.' in html
    assert 'data-testid="error-lines-0-quantity">Enter a number, for example 1500 or 12.5.' in html
    assert 'value="lots"' in html
    assert "keep this note" in html
    assert await count("supply") == before


async def test_an_invoice_number_is_recorded_once_per_kind(admin: Clerk) -> None:
    ref = await ids()
    existing = await a_purchase("supply", "draft")
    before = await count("supply")
    data = header(
        ref,
        invoice=existing["invoice_number"],
        **{
            "lines-0-item": ref["OVK-VAK"],
            "lines-0-unit": ref["VIAL"],
            "lines-0-quantity": "1",
            "lines-0-price": "1",
        },
    )
    response = await admin.post("/purchases/supply/new", data)
    assert response.status_code == 422
    assert "is already recorded for supply" in response.text
    assert await count("supply") == before


async def test_htmx_adds_and_removes_lines_without_saving(admin: Clerk) -> None:
    ref = await ids()
    data = header(
        ref, action="add_line", **{"lines-0-item": ref["OVK-VIT"], "lines-0-quantity": "3"}
    )
    added = await admin.post("/purchases/supply/new", data, htmx=True)
    assert added.status_code == 200
    assert added.text.lstrip().startswith('<form id="purchase-form"')
    assert added.text.count('data-testid="line"') == 2
    assert field_value(added.text, "lines-0-quantity") == "3"
    # Choosing an item offers that item's units only.
    assert options(added.text, "lines-0-unit") == {ref["GRAM"], ref["KG"]}
    assert options(added.text, "lines-1-unit") == set()
    data = {**data, "action": "remove_line:0", "lines-1-item": ref["OVK-VAK"]}
    removed = await admin.post("/purchases/supply/new", data, htmx=True)
    assert removed.text.count('data-testid="line"') == 1
    assert field_value(removed.text, "lines-0-quantity") == ""
    assert not await Purchase.exists().where(Purchase.invoice_number == "INV/TEST/1")


async def test_livestock_offers_at_most_three_lines(admin: Clerk) -> None:
    ref = await ids()
    form = header(ref, coop=ref["F01-K01"], action="add_line")
    for n in range(3):
        form[f"lines-{n}-strain"] = f"Strain {n}"
    response = await admin.post("/purchases/livestock/new", form, htmx=True)
    assert response.text.count('data-testid="line"') == 3
    assert 'data-testid="add-line"' not in response.text


async def test_choosing_a_farm_narrows_coops_and_flocks(admin: Clerk) -> None:
    ref = await ids()
    data = header(ref, farm=ref["F02"], action="refresh", **{"lines-0-flock": ""})
    response = await admin.post("/purchases/feed/new", data, htmx=True)
    assert options(response.text, "lines-0-flock") == {ref["F02-K01-A"], ref["F02-K02-A"]}
    data = header(ref, farm=ref["F02"], coop="", action="refresh", **{"lines-0-strain": ""})
    response = await admin.post("/purchases/livestock/new", data, htmx=True)
    assert options(response.text, "coop") == {ref["F02-K01"], ref["F02-K02"]}


async def edit_data(ref: dict[str, int], p: dict[str, Any], **changes: Any) -> dict[str, Any]:
    data = header(
        ref,
        invoice=p["invoice_number"],
        version=p["version"],
        **{
            "lines-0-item": ref["OVK-DES"],
            "lines-0-unit": ref["LITER"],
            "lines-0-quantity": "4",
            "lines-0-price": "85000",
        },
    )
    data.update(changes)
    return data


async def test_edit_replaces_fields_and_lines_and_bumps_the_version(admin: Clerk) -> None:
    ref = await ids()
    p = await a_purchase("supply", "pending")
    form = await admin.get(f"/purchases/supply/{p['id']}/edit")
    assert f'value="{p["invoice_number"]}"' in form.text
    response = await admin.post(f"/purchases/supply/{p['id']}/edit", await edit_data(ref, p))
    assert response.status_code == 303
    after = await Purchase.select().where(Purchase.id == p["id"]).first()
    assert (after["version"], after["status"], after["grand_total"]) == (
        p["version"] + 1,
        "pending",
        Decimal(490000),
    )
    lines = await SupplyLine.select().where(SupplyLine.purchase == p["id"])
    assert [(line["item"], line["converted_quantity"]) for line in lines] == [
        (ref["OVK-DES"], Decimal(4000))
    ]


async def test_edit_with_a_stale_version_is_a_conflict(admin: Clerk) -> None:
    ref = await ids()
    p = await a_purchase("supply", "pending")
    response = await admin.post(
        f"/purchases/supply/{p['id']}/edit", await edit_data(ref, p, version=p["version"] - 1)
    )
    assert response.status_code == 409
    assert "Someone changed this purchase while you were editing it." in response.text
    after = (
        await Purchase.select(Purchase.version, Purchase.grand_total)
        .where(Purchase.id == p["id"])
        .first()
    )
    assert (after["version"], after["grand_total"]) == (p["version"], p["grand_total"])


async def test_arrived_purchases_can_no_longer_be_edited(admin: Clerk) -> None:
    ref = await ids()
    p = await a_purchase("supply", "arrived")
    page = await admin.get(f"/purchases/supply/{p['id']}/edit")
    assert "can no longer be edited" in page.text
    response = await admin.post(f"/purchases/supply/{p['id']}/edit", await edit_data(ref, p))
    assert response.status_code == 409
    assert (await Purchase.select(Purchase.version).where(Purchase.id == p["id"]).first())[
        "version"
    ] == p["version"]


async def test_the_detail_page_shows_lines_totals_and_history(admin: Clerk) -> None:
    p = await a_purchase("livestock", "in_coop")
    html = (await admin.get(f"/purchases/livestock/{p['id']}")).text
    assert p["invoice_number"] in html
    assert html.count('data-testid="history-row"') == 4  # created, confirmed, arrived, in coop
    assert 'data-testid="detail-lines"' in html
    assert "WIB" in html


@SQLITE_ONLY  # PostgreSQL's sequences never gave an id back
async def test_a_purchase_created_after_the_newest_was_deleted_gets_a_new_id(admin: Clerk) -> None:
    ref = await ids()
    created = await admin.post(
        "/purchases/supply/new", header(ref, "NEWEST/1", **valid_lines("supply", ref))
    )
    newest = purchase_id(created.headers["location"])
    deleted = await admin.post(f"/purchases/supply/{newest}/delete", {"version": "1"})
    assert deleted.status_code == 303
    again = await admin.post(
        "/purchases/supply/new", header(ref, "NEWEST/2", **valid_lines("supply", ref))
    )
    assert purchase_id(again.headers["location"]) > newest


LINE_TABLES: dict[str, Any] = {"supply": SupplyLine, "feed": FeedLine, "livestock": LivestockLine}
KINDS = list(LINE_TABLES)


async def two_line_purchase(clerk: Clerk, kind: str, invoice: str) -> int:
    ref = await ids()
    data = header(ref, invoice, **valid_lines(kind, ref), **second_line(kind, ref))
    created = await clerk.post(f"/purchases/{kind}/new", data)
    assert created.status_code == 303, created.text
    return purchase_id(created.headers["location"])


async def stored_lines(kind: str, pid: int) -> list[dict[str, Any]]:
    table = LINE_TABLES[kind]
    return list(await table.select().where(table.purchase == pid).order_by(table.position))


async def edit_form(clerk: Clerk, kind: str, pid: int) -> dict[str, str]:
    return form_fields((await clerk.get(f"/purchases/{kind}/{pid}/edit")).text)


def without_ids(line: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in line.items() if name not in ("id", "position")}


@pytest.mark.parametrize("kind", KINDS)
async def test_an_edit_naming_one_stored_line_twice_keeps_it_once_and_saves_the_other_as_new(
    admin: Clerk, kind: str
) -> None:
    pid = await two_line_purchase(admin, kind, "LINES/TWICE")
    before = await stored_lines(kind, pid)
    fields = await edit_form(admin, kind, pid)
    fields["lines-1-id"] = fields["lines-0-id"]
    saved = await admin.post(f"/purchases/{kind}/{pid}/edit", {**fields, "action": "save"})
    assert saved.status_code == 303
    after = await stored_lines(kind, pid)
    assert after[0]["id"] == before[0]["id"]
    assert after[1]["id"] not in {line["id"] for line in before}
    assert [without_ids(line) for line in after] == [without_ids(line) for line in before]


@pytest.mark.parametrize("kind", KINDS)
async def test_an_edit_naming_another_purchases_line_saves_a_new_line_and_leaves_that_one_alone(
    admin: Clerk, kind: str
) -> None:
    other = await two_line_purchase(admin, kind, "LINES/OTHER")
    theirs = await stored_lines(kind, other)
    pid = await two_line_purchase(admin, kind, "LINES/MINE")
    before = await stored_lines(kind, pid)
    fields = await edit_form(admin, kind, pid)
    fields["lines-1-id"] = str(theirs[0]["id"])
    saved = await admin.post(f"/purchases/{kind}/{pid}/edit", {**fields, "action": "save"})
    assert saved.status_code == 303
    after = await stored_lines(kind, pid)
    assert after[0]["id"] == before[0]["id"]
    assert after[1]["id"] not in {line["id"] for line in before + theirs}
    assert await stored_lines(kind, other) == theirs


@pytest.mark.parametrize("kind", KINDS)
async def test_a_line_added_above_the_stored_ones_never_takes_a_stored_lines_id(
    admin: Clerk, kind: str
) -> None:
    """The newest lines of their table, deleted and saved again: SQLite without AUTOINCREMENT
    gave the new line on top the id the kept line below still claimed."""
    pid = await two_line_purchase(admin, kind, "LINES/ABOVE")
    kept = (await stored_lines(kind, pid))[0]
    fields = await edit_form(admin, kind, pid)
    lines = {name: value for name, value in fields.items() if name.startswith("lines-")}
    swapped = {name: value for name, value in fields.items() if not name.startswith("lines-")}
    for name, value in lines.items():
        _, n, field = name.split("-", 2)
        if n == "1" and field != "id":
            swapped[f"lines-0-{field}"] = value
        elif n == "0":
            swapped[f"lines-1-{field}"] = value
    saved = await admin.post(f"/purchases/{kind}/{pid}/edit", {**swapped, "action": "save"})
    assert saved.status_code == 303
    after = await stored_lines(kind, pid)
    assert after[1]["id"] == kept["id"]
    assert after[0]["id"] > kept["id"]
