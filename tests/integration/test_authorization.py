"""Every role x action x kind through the routes themselves: the server decides, not the page."""

from __future__ import annotations

import re

import httpx
import pytest

from purchasing.tables import Purchase
from tests.helpers.app import Clerk, LiveApp
from tests.helpers.demo import a_purchase
from tests.helpers.forms import header, ids, valid_lines
from tests.helpers.permissions import EXPECTED

USERS = {
    "superadmin": "superadmin",
    "admin": "administrator",
    "manager": "manager",
    "supervisor": "supervisor",
    "operator": "operator",
}
KINDS = ["supply", "feed", "livestock"]
# The last status before `completed`, which only a Supervisor or higher may set.
BEFORE_COMPLETED = {"supply": "arrived", "feed": "arrived", "livestock": "in_coop"}


def allowed(code: int) -> bool:
    assert code != 500
    return code in (200, 303)


async def exists(purchase_id: int) -> bool:
    return bool(await Purchase.exists().where(Purchase.id == purchase_id))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("username", list(USERS))
async def test_every_route_follows_the_matrix(
    client: httpx.AsyncClient, username: str, kind: str
) -> None:
    clerk = Clerk(client)
    await clerk.login(username)
    expected = EXPECTED[USERS[username]][kind]
    ref = await ids()
    draft = await a_purchase(kind, "draft", farm=ref["F01"])
    base = f"/purchases/{kind}"
    seen: dict[str, bool] = {}

    reads = [
        (await clerk.get(url, htmx=htmx)).status_code
        for url, htmx in ((base, False), (base, True), (f"{base}/{draft['id']}", False))
    ]
    seen["read"] = all(allowed(code) for code in reads)
    new_form = await clerk.get(f"{base}/new")
    created = await clerk.post(
        f"{base}/new", header(ref, f"AUTH/{username}/{kind}", **valid_lines(kind, ref))
    )
    seen["create"] = allowed(new_form.status_code) and allowed(created.status_code)
    assert allowed(new_form.status_code) == allowed(created.status_code)
    edit_form = await clerk.get(f"{base}/{draft['id']}/edit")
    edit = header(ref, draft["invoice_number"], version=draft["version"], **valid_lines(kind, ref))
    edited = await clerk.post(f"{base}/{draft['id']}/edit", edit)
    seen["update"] = allowed(edit_form.status_code) and allowed(edited.status_code)
    assert allowed(edit_form.status_code) == allowed(edited.status_code)
    other_draft = await a_purchase(kind, "draft", farm=ref["F02"])
    deleted = await clerk.post(
        f"{base}/{other_draft['id']}/delete", {"version": other_draft["version"]}
    )
    seen["delete"] = allowed(deleted.status_code)
    assert seen["delete"] is not await exists(other_draft["id"])
    detail = (await clerk.get(f"{base}/{draft['id']}")).text
    seen["audit"] = "From address" in detail

    assert {action for action, ok in seen.items() if ok} == expected
    for action in {"create", "update", "delete"} - expected:
        page = {"create": created, "update": edited, "delete": deleted}[action]
        assert page.status_code == 403
        assert f"may not {action} {kind} purchases" in page.text
    hidden = (await clerk.get(base)).text
    assert ('data-testid="new-purchase"' in hidden) is ("create" in expected)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("username", list(USERS))
async def test_completing_needs_a_supervisor_or_higher(
    client: httpx.AsyncClient, username: str, kind: str
) -> None:
    clerk = Clerk(client)
    await clerk.login(username)
    p = await a_purchase(kind, BEFORE_COMPLETED[kind], farm=(await ids())["F01"])
    table = (
        await clerk.get(f"/purchases/{kind}?status={BEFORE_COMPLETED[kind]}&per_page=50", htmx=True)
    ).text
    row = table[table.index(f'id="purchase-{p["id"]}"') :]
    row = row[: row.index("</tr>")]
    may = username != "operator"
    assert ('value="completed"' in row) is may
    form = {"status": "completed", "version": p["version"], "notes": "all counted"}
    response = await clerk.post(f"/purchases/{kind}/{p['id']}/status", form, htmx=True)
    assert response.status_code == (200 if may else 422)
    stored = await Purchase.select(Purchase.status).where(Purchase.id == p["id"]).first()
    assert stored == {"status": "completed" if may else BEFORE_COMPLETED[kind]}


@pytest.mark.parametrize(
    ("current", "target", "may"),
    [
        ("in_transit", "arrived", True),
        ("arrived", "in_coop", True),
        ("draft", "confirmed", False),
        ("pending", "cancelled", False),
        ("in_transit", "cancelled", False),
        ("arrived", "cancelled", False),
    ],
)
async def test_on_livestock_an_operator_only_records_the_chicks_arriving(
    client: httpx.AsyncClient, current: str, target: str, may: bool
) -> None:
    """Confirming, cancelling and every other livestock move are a Supervisor's: the row offers
    the Operator none of them, and the server refuses each one, changing nothing."""
    operator = Clerk(client)
    await operator.login("operator")
    p = await a_purchase("livestock", current, farm=(await ids())["F01"])
    table = await operator.get(f"/purchases/livestock?status={current}&per_page=50", htmx=True)
    row = table.text[table.text.index(f'id="purchase-{p["id"]}"') :]
    assert (f'value="{target}"' in row[: row.index("</tr>")]) is may
    form = {"status": target, "version": p["version"], "notes": "by the operator"}
    response = await operator.post(f"/purchases/livestock/{p['id']}/status", form, htmx=True)
    assert response.status_code == (200 if may else 422)
    if not may:
        assert "An Operator may only record chicks arriving" in response.text
    stored = await Purchase.select(Purchase.status).where(Purchase.id == p["id"]).first()
    assert stored == {"status": target if may else current}


async def test_forbidden_pages_say_why(client: httpx.AsyncClient) -> None:
    clerk = Clerk(client)
    await clerk.login("operator")
    response = await clerk.get("/purchases/livestock/new")
    assert response.status_code == 403
    assert re.search(r"An? Operator may not create livestock purchases", response.text)


async def test_the_audit_trail_shows_who_when_and_from_where_to_those_allowed(
    live: LiveApp,
) -> None:
    p = await a_purchase("supply", "draft", farm=(await ids())["F01"])
    async with live.client() as http:
        supervisor = Clerk(http)
        await supervisor.login("supervisor")
        headers = {"x-csrftoken": http.cookies["csrftoken"], "User-Agent": "Clerk-Tablet/7.1"}
        form = {"status": "pending", "version": str(p["version"])}
        await http.post(f"/purchases/supply/{p['id']}/status", data=form, headers=headers)
        audited = (await supervisor.get(f"/purchases/supply/{p['id']}")).text
    assert "Clerk-Tablet/7.1" in audited
    assert "127.0.0.1" in audited
    assert "Supervisor" in audited
    async with live.client() as http:
        operator = Clerk(http)
        await operator.login("operator")
        plain = (await operator.get(f"/purchases/supply/{p['id']}")).text
    assert "Supervisor" in plain  # who and when: yes
    assert "Clerk-Tablet/7.1" not in plain  # from where: no
    assert "127.0.0.1" not in plain
