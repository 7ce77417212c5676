"""Index pages and the table fragment: paging, sorting, search, filter, scope."""

from __future__ import annotations

import re
from decimal import Decimal

import httpx
import pytest

from purchasing.tables import Purchase
from tests.helpers.app import Clerk
from tests.helpers.demo import main_company

ROW = re.compile(r'data-testid="purchase-row" data-purchase-id="(\d+)"\s+data-status="(\w+)"')


def rows(html: str) -> list[tuple[int, str]]:
    return [(int(pid), status) for pid, status in ROW.findall(html)]


async def ids_by(
    order_by: object, ascending: bool, kind: str = "supply", limit: int = 10
) -> list[int]:
    query = Purchase.select(Purchase.id).where(
        (Purchase.kind == kind) & (Purchase.company == await main_company())
    )
    query = query.order_by(order_by, ascending=ascending).order_by(Purchase.id, ascending=ascending)
    return [r["id"] for r in await query.limit(limit)]


async def test_root_redirects_to_supply(admin: Clerk) -> None:
    response = await admin.get("/")
    assert response.headers["location"] == "/purchases/supply"


@pytest.mark.parametrize("kind", ["supply", "feed", "livestock"])
async def test_the_page_includes_the_very_fragment_the_table_route_serves(
    admin: Clerk, kind: str
) -> None:
    page = await admin.get(f"/purchases/{kind}?sort=total&per_page=25")
    fragment = await admin.get(f"/purchases/{kind}?sort=total&per_page=25", htmx=True)
    assert page.status_code == fragment.status_code == 200
    assert page.text.startswith("<!doctype html>")
    assert fragment.text.lstrip().startswith('<section id="purchase-table"')
    assert fragment.text.strip() in page.text
    assert len(rows(fragment.text)) == 25


async def test_one_url_serves_the_page_or_for_htmx_only_its_table(admin: Clerk) -> None:
    response = await admin.get("/purchases/feed?page=2", htmx=True, target="purchase-table")
    assert response.text.lstrip().startswith('<section id="purchase-table"')
    assert response.headers["vary"] == "HX-Request"
    full = await admin.get("/purchases/feed?page=2")
    assert full.text.startswith("<!doctype html>")
    assert full.headers["vary"] == "HX-Request"
    assert (await admin.get("/purchases/feed/table")).status_code == 404  # no second URL


async def test_livestock_shows_coop_heads_and_price_per_head(admin: Clerk) -> None:
    html = (await admin.get("/purchases/livestock", htmx=True)).text
    for header in ["Coop", "Heads", "Price / head"]:
        assert f">{header}<" in html
    assert ">Coop<" in (await admin.get("/purchases/feed", htmx=True)).text
    supply = (await admin.get("/purchases/supply", htmx=True)).text
    assert ">Coop<" not in supply
    assert ">Heads<" not in supply


async def test_paging_walks_the_whole_list_once(admin: Clerk) -> None:
    seen: list[int] = []
    for page in range(1, 6):
        seen += [
            pid
            for pid, _ in rows((await admin.get(f"/purchases/supply?page={page}", htmx=True)).text)
        ]
    total = await Purchase.count().where(
        (Purchase.kind == "supply") & (Purchase.company == await main_company())
    )
    assert len(seen) == len(set(seen)) == total == 45


async def test_a_page_past_the_end_shows_the_last_page(admin: Clerk) -> None:
    html = (await admin.get("/purchases/supply?page=99&per_page=10", htmx=True)).text
    assert "Page 5 of 5" in html
    assert len(rows(html)) == 5


@pytest.mark.parametrize(
    ("sort", "column"),
    [
        ("date", Purchase.purchase_date),
        ("invoice", Purchase.invoice_number),
        ("total", Purchase.grand_total),
    ],
)
@pytest.mark.parametrize("direction", ["asc", "desc"])
async def test_sorting(admin: Clerk, sort: str, column: object, direction: str) -> None:
    html = (await admin.get(f"/purchases/supply?sort={sort}&dir={direction}", htmx=True)).text
    assert [pid for pid, _ in rows(html)] == await ids_by(column, direction == "asc")


async def test_sorting_by_status_follows_the_workflow(admin: Clerk) -> None:
    html = (await admin.get("/purchases/livestock?sort=status&dir=asc&per_page=50", htmx=True)).text
    order = [
        "draft",
        "pending",
        "confirmed",
        "in_transit",
        "arrived",
        "in_coop",
        "completed",
        "cancelled",
    ]
    statuses = [status for _, status in rows(html)]
    assert statuses == sorted(statuses, key=order.index)
    assert set(statuses) == set(order)


async def test_status_filter(admin: Clerk) -> None:
    html = (await admin.get("/purchases/feed?status=arrived&per_page=50", htmx=True)).text
    found = rows(html)
    assert found
    assert {status for _, status in found} == {"arrived"}
    assert len(found) == await Purchase.count().where(
        (Purchase.kind == "feed")
        & (Purchase.status == "arrived")
        & (Purchase.company == await main_company())
    )


@pytest.mark.parametrize(
    ("q", "column"), [("0007", "invoice"), ("japfa", "supplier"), ("LEMBANG", "farm")]
)
async def test_search_by_invoice_supplier_or_farm(admin: Clerk, q: str, column: str) -> None:
    html = (await admin.get(f"/purchases/supply?q={q}&per_page=50", htmx=True)).text
    found = rows(html)
    assert found
    details = await Purchase.select(
        Purchase.id, Purchase.invoice_number, Purchase.supplier.name, Purchase.farm.name
    ).where(Purchase.id.is_in([pid for pid, _ in found]))
    for d in details:
        text = {
            "invoice": d["invoice_number"],
            "supplier": d["supplier.name"],
            "farm": d["farm.name"],
        }[column]
        assert q.lower() in text.lower()


async def test_search_and_filter_combine_and_are_kept_in_links(admin: Clerk) -> None:
    html = (
        await admin.get("/purchases/supply?q=farm&status=draft&sort=total&dir=asc&per_page=10")
    ).text
    assert {status for _, status in rows(html)} == {"draft"}
    assert 'value="farm"' in html
    assert 'name="sort" value="total" form="filters"' in html
    # The Total header toggles to descending (the default direction), keeping search and filter.
    assert 'href="/purchases/supply?sort=total&amp;q=farm&amp;status=draft"' in html


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("page=-3", "The page must be a whole number from 1 to 1000000."),
        ("page=abc", "The page must be a whole number"),
        ("per_page=7", "Rows per page must be one of 10, 25, 50."),
        ("sort=drop", "Sort by one of: date, invoice, total, status."),
        ("dir=sideways", "The sort direction must be asc or desc."),
        ("status=lost", "Filter by one of: draft, pending"),
        ("status=in_coop", "Filter by one of"),
        ("q=" + "x" * 101, "Search for at most 100 characters."),
    ],
)
async def test_parameters_that_cannot_be_meant_are_explained(
    admin: Clerk, query: str, message: str
) -> None:
    for htmx in (False, True):  # the page, and its table
        response = await admin.get(f"/purchases/supply?{query}", htmx=htmx)
        assert response.status_code == 400
        assert message in response.text


async def test_empty_parameters_take_their_defaults(admin: Clerk) -> None:
    response = await admin.get("/purchases/supply?page=&per_page=&sort=&dir=&q=&status=", htmx=True)
    assert response.status_code == 200
    assert len(rows(response.text)) == 10


async def test_an_unknown_kind_is_not_found(admin: Clerk) -> None:
    response = await admin.get("/purchases/eggs")
    assert response.status_code == 404
    assert "Not found" in response.text


async def test_an_empty_result_says_so(admin: Clerk) -> None:
    html = (await admin.get("/purchases/supply?q=no-such-invoice-anywhere", htmx=True)).text
    assert 'data-testid="empty-table"' in html
    assert rows(html) == []


async def test_totals_are_shown_in_rupiah(admin: Clerk) -> None:
    purchase = (
        await Purchase.select(Purchase.id, Purchase.grand_total)
        .where(Purchase.kind == "supply")
        .first()
    )
    html = (await admin.get("/purchases/supply?per_page=50", htmx=True)).text
    amount = (
        f"{Decimal(purchase['grand_total']):,.2f}".replace(",", "_")
        .replace(".", ",")
        .replace("_", ".")
    )
    assert f"Rp {amount}" in html


async def test_an_operator_sees_only_their_farms(client: httpx.AsyncClient) -> None:
    operator = Clerk(client)
    await operator.login("operator3")
    html = (await operator.get("/purchases/feed?per_page=50", htmx=True)).text
    visible = {pid for pid, _ in rows(html)}
    f03 = {
        r["id"]
        for r in await Purchase.select(Purchase.id).where(
            (Purchase.kind == "feed") & (Purchase.farm.code == "F03")
        )
    }
    assert visible == f03
    other = (
        await Purchase.select(Purchase.id)
        .where((Purchase.kind == "feed") & (Purchase.farm.code == "F01"))
        .first()
    )
    assert (await operator.get(f"/purchases/feed/{other['id']}")).status_code == 404
