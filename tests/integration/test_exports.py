"""Exports of a table view: every page of it, within the viewer's scope, as CSV or a workbook;
hostile parameters are refused with a 400; a flood of exports is turned away with a 503."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal
from typing import Any

import openpyxl
import pytest

from purchasing.tables import Farm, Partner, Purchase
from tests.helpers.app import Clerk, LiveApp, signed_in
from tests.helpers.demo import a_purchase, main_company, other_company, purchases_where
from tests.helpers.hostile import HOSTILE, QUERY_PARAMS, record


def csv_rows(body: bytes) -> list[dict[str, str]]:
    assert body.startswith("\ufeff".encode())  # Excel reads it as UTF-8
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))


def sheet_rows(body: bytes) -> list[tuple[Any, ...]]:
    book = openpyxl.load_workbook(io.BytesIO(body), read_only=True)
    return list(book.worksheets[0].iter_rows(values_only=True))


async def invoices_of(purchase_ids: set[int]) -> set[str]:
    rows = await Purchase.select(Purchase.invoice_number).where(
        Purchase.id.is_in(list(purchase_ids))
    )
    return {row["invoice_number"] for row in rows}


async def test_the_csv_holds_every_page_of_the_view_in_its_order(admin: Clerk) -> None:
    response = await admin.get("/purchases/supply/export.csv?sort=invoice&dir=asc&per_page=10")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"].startswith('attachment; filename="supply-')
    rows = csv_rows(response.content)
    shown = await purchases_where("supply", company=await main_company())
    assert len(rows) == len(shown) > 10  # every page, not the 10 rows of the first
    assert [r["Invoice"] for r in rows] == sorted(await invoices_of(shown))
    assert [r["No"] for r in rows] == [str(n) for n in range(1, len(rows) + 1)]
    first = rows[0]
    assert date.fromisoformat(first["Date"])  # ISO dates
    assert Decimal(first["Total"]) > 0  # plain numbers
    assert first["Status"] in {
        "Draft",
        "Pending",
        "Confirmed",
        "In Transit",
        "Arrived",
        "Completed",
        "Cancelled",
    }


async def test_the_export_follows_the_search_and_the_filter(admin: Clerk) -> None:
    p = await a_purchase("feed", "draft")
    response = await admin.get(f"/purchases/feed/export.csv?status=draft&q={p['invoice_number']}")
    assert [r["Invoice"] for r in csv_rows(response.content)] == [p["invoice_number"]]
    assert csv_rows(response.content)[0]["Coop"] != ""  # feed rows name their coops


async def test_the_workbook_has_numbers_dates_and_rupiah(admin: Clerk) -> None:
    response = await admin.get("/purchases/livestock/export.xlsx?sort=total&dir=desc")
    assert response.status_code == 200
    assert "spreadsheetml" in response.headers["content-type"]
    header, *rows = sheet_rows(response.content)
    assert header == (
        "No",
        "Date",
        "Invoice",
        "Supplier",
        "Farm",
        "Coop",
        "Heads",
        "Price per head",
        "Total",
        "Status",
    )
    totals = [row[8] for row in rows]
    assert all(isinstance(total, int | float) for total in totals)  # numbers, not text
    assert totals == sorted(totals, reverse=True)
    assert all(hasattr(row[1], "year") for row in rows)  # dates, not text
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    assert book.worksheets[0]["I2"].number_format == '"Rp" #,##0.00'


@pytest.mark.parametrize("extension", ["csv", "xlsx"])
async def test_an_operator_export_never_holds_another_farms_purchase(
    live: LiveApp, extension: str
) -> None:
    operator = await signed_in(live, "operator")
    response = await operator.get(f"/purchases/supply/export.{extension}")
    if extension == "csv":
        invoices = {r["Invoice"] for r in csv_rows(response.content)}
    else:
        invoices = {row[2] for row in sheet_rows(response.content)[1:]}
    farms = await Farm.select(Farm.id).where(Farm.code.is_in(["F01", "F02"]))
    theirs: set[int] = set()
    for farm in farms:
        theirs |= await purchases_where("supply", farm=farm["id"])
    assert invoices == await invoices_of(theirs)
    others = await purchases_where("supply", company=await other_company())
    assert not invoices & await invoices_of(others)


async def test_hostile_view_parameters_are_refused_never_a_500(admin: Clerk) -> None:
    refused = 0
    for extension in ("csv", "xlsx"):
        for name in QUERY_PARAMS:
            for value in HOSTILE:
                response = await admin.client.get(
                    f"/purchases/supply/export.{extension}", params={name: value}
                )
                status = record(f"export {extension}", response)
                assert status in (200, 400)
                refused += status == 400
    assert refused > 0


async def test_a_spreadsheet_formula_in_a_name_stays_text(admin: Clerk) -> None:
    p = await a_purchase("supply", "draft")
    formula = '=HYPERLINK("http://evil.example","click")'
    await Partner.update({Partner.name: formula}).where(Partner.id == p["supplier"])
    response = await admin.get(f"/purchases/supply/export.csv?q={p['invoice_number']}")
    assert csv_rows(response.content)[0]["Supplier"] == "'" + formula
    workbook = await admin.get(f"/purchases/supply/export.xlsx?q={p['invoice_number']}")
    assert sheet_rows(workbook.content)[1][3] == formula  # a string cell, not a formula


async def test_exports_past_the_limit_are_turned_away_until_one_ends(
    live: LiveApp, admin: Clerk
) -> None:
    slots = live.app.state.exports
    slots.busy = slots.limit  # as if that many were being written
    try:
        response = await admin.get("/purchases/supply/export.csv")
        assert response.status_code == 503
        assert response.headers["retry-after"] == "5"
    finally:
        slots.busy = 0
    assert (await admin.get("/purchases/supply/export.csv")).status_code == 200


async def test_signed_out_an_export_is_the_login_page(anonymous: Clerk) -> None:
    response = await anonymous.get("/purchases/supply/export.csv")
    assert response.status_code in (302, 303)
    assert "/login" in response.headers["location"]
