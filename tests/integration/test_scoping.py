"""Who sees what: farms, companies, typed-in ids, form choices and every path of the stream."""

from __future__ import annotations

import contextlib
import re

import pytest

from purchasing.services.users import set_active
from purchasing.tables import Farm, Partner, Purchase
from tests.helpers.app import Clerk, LiveApp
from tests.helpers.demo import a_purchase, main_company, other_company, purchases_where
from tests.helpers.forms import header, ids, options, valid_lines
from tests.helpers.sse import eventually, open_stream

ROW = re.compile(r'data-testid="purchase-row" data-purchase-id="(\d+)"')


async def visible(clerk: Clerk, kind: str, query: str = "") -> set[int]:
    """Every purchase id the clerk's table lists, over all its pages."""
    seen: set[int] = set()
    for page in range(1, 10):
        html = (
            await clerk.get(f"/purchases/{kind}?per_page=50&page={page}{query}", htmx=True)
        ).text
        found = {int(pid) for pid in ROW.findall(html)}
        if found <= seen:
            return seen
        seen |= found
    return seen


@pytest.fixture
async def people(live: LiveApp) -> dict[str, Clerk]:
    clerks = {}
    for username in ("operator", "operator3", "operator4", "admin", "admin2", "superadmin"):
        clerks[username] = Clerk(live.client())
        await clerks[username].login(username)
    return clerks


@pytest.mark.parametrize("kind", ["supply", "feed", "livestock"])
async def test_tables_show_each_person_their_own_purchases(
    people: dict[str, Clerk], kind: str
) -> None:
    ref = await ids()
    other = await other_company()
    main_ids = await purchases_where(kind, company=await main_company())
    assert await visible(people["operator"], kind) == (
        await purchases_where(kind, farm=ref["F01"]) | await purchases_where(kind, farm=ref["F02"])
    )
    assert await visible(people["operator3"], kind) == await purchases_where(kind, farm=ref["F03"])
    assert await visible(people["operator4"], kind) == await purchases_where(kind, company=other)
    assert await visible(people["admin"], kind) == main_ids
    assert await visible(people["admin2"], kind) == await purchases_where(kind, company=other)
    everything = await visible(people["superadmin"], kind, "&sort=invoice")
    assert everything == main_ids | await purchases_where(kind, company=other)


async def test_search_and_counts_stay_in_scope(people: dict[str, Clerk]) -> None:
    # Both companies number invoices alike ("/OVK/2026/0001"); each sees only its own.
    for username, prefix in (("admin", "INV/"), ("admin2", "TMJ/")):
        html = (await people[username].get("/purchases/supply?q=/OVK/2026/0001", htmx=True)).text
        assert re.findall(r'data-testid="invoice">([^<]+)<', html) == [f"{prefix}OVK/2026/0001"]
        assert 'data-total="1"' in html


async def test_ids_typed_into_urls_of_others_are_not_found(people: dict[str, Clerk]) -> None:
    theirs = await a_purchase("feed", "draft", company=await other_company())
    mine = await a_purchase("feed", "draft")
    f03 = await a_purchase("feed", "draft", farm=(await ids())["F03"])
    cases = [
        (people["admin"], theirs),
        (people["operator4"], mine),
        (people["operator"], f03),
    ]
    for clerk, purchase in cases:
        base = f"/purchases/feed/{purchase['id']}"
        assert (await clerk.get(base)).status_code == 404
        assert (await clerk.get(f"{base}/edit")).status_code == 404
        moved = await clerk.post(
            f"{base}/status", {"status": "pending", "version": purchase["version"]}, htmx=True
        )
        assert moved.status_code == 404
        deleted = await clerk.post(f"{base}/delete", {"version": purchase["version"]})
        assert deleted.status_code in (403, 404)
        after = await Purchase.select(Purchase.status).where(Purchase.id == purchase["id"]).first()
        assert after == {"status": "draft"}


async def test_forms_offer_and_accept_only_what_is_in_scope(people: dict[str, Clerk]) -> None:
    ref = await ids()
    form = (await people["operator"].get("/purchases/feed/new")).text
    assert options(form, "farm") == {ref["F01"], ref["F02"]}
    other_farm = (await Farm.select(Farm.id).where(Farm.code == "G01").first())["id"]
    other_supplier = (
        await Partner.select(Partner.id).where(Partner.company == await other_company()).first()
    )["id"]
    assert other_supplier not in options(form, "supplier")
    before = await Purchase.count()
    for changes in ({"farm": ref["F03"]}, {"farm": other_farm}, {"supplier": other_supplier}):
        data = header(ref, "SCOPE/1", **valid_lines("feed", ref)) | changes
        response = await people["operator"].post("/purchases/feed/new", data)
        assert response.status_code == 422
        assert "from the list" in response.text
    assert await Purchase.count() == before


async def test_no_one_receives_events_of_purchases_they_may_not_read(
    people: dict[str, Clerk], live: LiveApp
) -> None:
    """Live, replayed after a cursor, or after a resync: each stream carries only its own."""
    ref = await ids()
    plans = {
        "operator": ("admin", await a_purchase("supply", "draft", farm=ref["F01"])),
        "operator3": ("admin", await a_purchase("supply", "draft", farm=ref["F03"])),
        "operator4": ("admin2", await a_purchase("supply", "draft", company=await other_company())),
    }
    start = await live.app.state.hub.poll()
    async with contextlib.AsyncExitStack() as stack:
        streams = {}
        for name in plans:
            streams[name] = await stack.enter_async_context(open_stream(people[name].client))
            await streams[name].next()
        for mover, purchase in plans.values():
            form = {"status": "pending", "version": purchase["version"]}
            moved = await people[mover].post(
                f"/purchases/supply/{purchase['id']}/status", form, htmx=True
            )
            assert moved.status_code == 200
        for name, stream in streams.items():
            assert (await stream.next_event()).json["purchase_id"] == plans[name][1]["id"]
    for name, (_, purchase) in plans.items():
        async with open_stream(people[name].client, f"/events?after={start}") as replay:
            assert (await replay.next_event()).json["purchase_id"] == purchase["id"]
        async with open_stream(people[name].client, "/events?after=nonsense") as resync:
            frame = await resync.next_event()
            assert frame.event == "resync"
            assert set(frame.json) == {"id", "reason"}


@pytest.mark.parametrize("tuned", [{"stream_recheck_s": 0.05}], indirect=True)
async def test_logging_out_or_being_deactivated_closes_open_streams(tuned: LiveApp) -> None:
    async with tuned.client() as first, tuned.client() as second:
        one, two = Clerk(first), Clerk(second)
        await one.login("operator")
        await two.login("operator3")
        async with open_stream(first) as a, open_stream(second) as b:
            await a.next()
            await b.next()
            await one.post("/logout", {})
            await eventually(a.ended.is_set)
            await set_active("operator3", False)
            await eventually(b.ended.is_set)
        assert tuned.app.state.hub.subscribers == set()
        assert (await one.get("/events")).status_code == 401

        async def refused() -> bool:
            return bool((await two.get("/purchases/supply")).status_code == 303)

        # Pages follow within the same STREAM_RECHECK_S as streams (the kept actor's lifetime;
        # a load begun before the change may keep the old one that long).
        await eventually(refused)
