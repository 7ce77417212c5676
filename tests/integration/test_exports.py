"""Exports of a table view: every page of it, within the viewer's scope, as CSV or a workbook;
hostile parameters are refused with a 400; one export at a time per person (a 429), a flood
turned away with a 503; and each export's file is closed when its response ends, however it
ends."""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import os
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date
from decimal import Decimal
from typing import Any

import httpx
import openpyxl
import pytest
from litestar.response import Stream

from purchasing.tables import Farm, Partner, Purchase
from purchasing.web import exports
from tests.helpers.app import Clerk, LiveApp, signed_in
from tests.helpers.demo import a_purchase, main_company, other_company, purchases_where
from tests.helpers.hostile import HOSTILE, QUERY_PARAMS, record
from tests.helpers.sse import WAIT_S, eventually

EXPORT = "/purchases/supply/export.csv"


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


class Gate:
    """Holds every export's writing until opened: what happens while exports are written."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.waiting = 0
        self.opened = asyncio.Event()
        rows = exports.every_row

        async def gated(*args: Any) -> AsyncIterator[Any]:
            self.waiting += 1
            await self.opened.wait()
            async for batch in rows(*args):
                yield batch

        monkeypatch.setattr(exports, "every_row", gated)


async def answered_first(asked: list[asyncio.Task[Any]]) -> None:
    await asyncio.wait(asked, timeout=WAIT_S, return_when=asyncio.FIRST_COMPLETED)


async def test_a_persons_second_export_at_once_is_refused_while_anothers_goes_ahead(
    live: LiveApp, admin: Clerk, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One person asks twice at once: one is written, the other refused at once in the page's
    language; someone else's goes ahead."""
    gate = Gate(monkeypatch)
    manager = await signed_in(live, "manager")
    indonesian = {"Accept-Language": "id"}
    asked = [
        asyncio.create_task(admin.get(EXPORT, headers=indonesian)),
        asyncio.create_task(admin.get(EXPORT, headers=indonesian)),
        asyncio.create_task(manager.get(EXPORT)),
    ]
    await answered_first(asked)  # the refusal comes at once; the others wait at the gate
    gate.opened.set()
    first, second, theirs = await asyncio.gather(*asked)
    assert sorted([first.status_code, second.status_code]) == [200, 429]
    refused = first if first.status_code == 429 else second
    assert refused.headers["retry-after"] == "5"
    assert "Ekspor Anda sebelumnya masih dibuat atau diunduh" in refused.text
    assert theirs.status_code == 200
    assert (await admin.get(EXPORT)).status_code == 200  # once the first is done, another


async def test_exports_past_the_limit_are_turned_away_until_one_ends(
    live: LiveApp, admin: Clerk, monkeypatch: pytest.MonkeyPatch
) -> None:
    gate = Gate(monkeypatch)
    others = [await signed_in(live, name) for name in ("manager", "supervisor")]
    asked = [asyncio.create_task(clerk.get(EXPORT)) for clerk in others]
    await eventually(lambda: gate.waiting == 2)
    turned_away = await admin.get(EXPORT)
    assert turned_away.status_code == 503
    assert turned_away.headers["retry-after"] == "5"
    gate.opened.set()
    assert [answer.status_code for answer in await asyncio.gather(*asked)] == [200, 200]
    assert (await admin.get(EXPORT)).status_code == 200


def export_files_open() -> list[str]:
    """The exported files this process holds open: each one's temporary file, already removed."""
    found = []
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):  # gone since listed
            target = os.readlink(f"/proc/self/fd/{fd}")
            if "/export-" in target and target.endswith("(deleted)"):
                found.append(target)
    return found


def handling_nothing(live: LiveApp) -> bool:
    """The server has no request in hand: every response has ended."""
    return not live.server.server_state.tasks


async def more_purchases(count: int) -> None:
    """`count` more supply purchases, so that an export is far larger than the buffers of a
    connection."""
    row = await a_purchase("supply", "draft")
    row.pop("id")
    copies = [Purchase(**{**row, "invoice_number": f"BULK-{n:05}"}) for n in range(count)]
    for start in range(0, count, 500):  # asyncpg takes at most 32,767 values in one statement
        await Purchase.insert(*copies[start : start + 500])


@asynccontextmanager
async def slow_reader(live: LiveApp, clerk: Clerk) -> AsyncIterator[httpx.AsyncClient]:
    """`clerk` on a connection whose buffers hold a few KB each way, so the server is still
    sending a large export when the client goes."""
    # Connections the server accepts from now on inherit its listening socket's buffer size.
    live.socket.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    small = [(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)]
    async with httpx.AsyncClient(
        base_url=live.url,
        transport=httpx.AsyncHTTPTransport(socket_options=small),
        cookies=clerk.client.cookies,
        timeout=WAIT_S,
    ) as client:
        yield client


@pytest.mark.parametrize(
    "read_a_little", [False, True], ids=["reading_nothing", "reading_a_little"]
)
async def test_an_exports_file_is_closed_when_its_client_goes_in_the_middle(
    live: LiveApp, admin: Clerk, read_a_little: bool
) -> None:
    await more_purchases(3000)
    before = export_files_open()
    async with slow_reader(live, admin) as client, client.stream("GET", EXPORT) as response:
        assert response.status_code == 200
        if read_a_little:
            assert await anext(response.aiter_raw())
        assert len(export_files_open()) == len(before) + 1  # still being sent
    await eventually(lambda: handling_nothing(live))
    assert export_files_open() == before
    assert (await admin.get(EXPORT)).status_code == 200  # its person may export again


async def test_an_exports_file_is_closed_when_its_client_goes_while_it_is_written(
    live: LiveApp, admin: Clerk, monkeypatch: pytest.MonkeyPatch
) -> None:
    gate = Gate(monkeypatch)
    before = export_files_open()
    connections = live.server.server_state.connections
    connected = len(connections)
    async with live.client() as client:
        client.cookies = admin.client.cookies
        asking = asyncio.create_task(client.get(EXPORT))
        await eventually(lambda: gate.waiting == 1)
        asking.cancel()
    await eventually(lambda: len(connections) <= connected)  # the server saw it go
    gate.opened.set()  # written, and answered to nobody
    await eventually(lambda: handling_nothing(live))
    assert export_files_open() == before
    assert (await admin.get(EXPORT)).status_code == 200


class Unsendable(Stream):
    """A response that cannot be made: an error once the handler has returned."""

    def to_asgi_response(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("the response could not be made")


async def test_an_exports_file_is_closed_when_its_response_is_never_sent(
    live: LiveApp, admin: Clerk, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its file is open, and nothing will read it."""
    monkeypatch.setattr(exports, "Stream", Unsendable)
    before = export_files_open()
    assert (await admin.get(EXPORT)).status_code == 500
    await eventually(lambda: handling_nothing(live))
    assert export_files_open() == before
    monkeypatch.undo()
    assert (await admin.get(EXPORT)).status_code == 200


async def test_signed_out_an_export_is_the_login_page(anonymous: Clerk) -> None:
    response = await anonymous.get("/purchases/supply/export.csv")
    assert response.status_code in (302, 303)
    assert "/login" in response.headers["location"]
