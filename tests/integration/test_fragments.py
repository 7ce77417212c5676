"""The table fragment pages re-fetch after an event: one render per distinct view, 304 when the
page already has it, never another viewer's rows or CSRF token, never older than the page."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest

from purchasing.domain.statuses import Kind, Status
from purchasing.services.changes import Changes
from purchasing.services.status import change_status
from tests.helpers.app import Clerk, LiveApp
from tests.helpers.demo import a_purchase, actor_named, move

VIEW = "/purchases/supply?sort=invoice&dir=asc&per_page=50"  # with HX-Request: the table
TOKEN = re.compile(r'name="_csrf_token" value="([^"]+)"')


@pytest.fixture
async def clerks(live: LiveApp) -> AsyncIterator[list[Clerk]]:
    """Three people: two supervisors of the main company (one user, two browsers) and an
    Operator of two of its farms."""
    async with live.client() as a, live.client() as b, live.client() as c:
        people = [Clerk(a), Clerk(b), Clerk(c)]
        for clerk, name in zip(people, ("supervisor", "supervisor", "operator"), strict=True):
            await clerk.login(name)
        yield people


def fragment_stats(live: LiveApp) -> dict[str, int]:
    return dict(vars(live.app.state.fragments.stats))


async def fetch(clerk: Clerk, **headers: str) -> httpx.Response:
    return await clerk.client.get(VIEW, headers={"HX-Request": "true", **headers})


def statuses(response: httpx.Response) -> dict[str, str]:
    rows = re.findall(r'data-purchase-id="(\d+)"\s+data-status="(\w+)"', response.text)
    return dict(rows)


async def test_identical_views_share_one_render_but_not_their_tokens(
    live: LiveApp, clerks: list[Clerk]
) -> None:
    one, two, _ = clerks
    before = fragment_stats(live)
    first, second = await fetch(one), await fetch(two)
    after = fragment_stats(live)
    assert after["renders"] - before["renders"] == 1
    assert after["hits"] - before["hits"] == 1
    assert statuses(first) == statuses(second)
    # Each page gets its own CSRF token, the one its cookie pairs with.
    assert set(TOKEN.findall(first.text)) == {one.client.cookies["csrftoken"]}
    assert set(TOKEN.findall(second.text)) == {two.client.cookies["csrftoken"]}


async def test_another_scope_gets_its_own_render_with_only_its_rows(
    live: LiveApp, clerks: list[Clerk]
) -> None:
    supervisor, _, operator = clerks
    before = fragment_stats(live)
    everyone, own_farms = await fetch(supervisor), await fetch(operator)
    assert fragment_stats(live)["renders"] - before["renders"] == 2
    assert set(statuses(own_farms)) < set(statuses(everyone))


async def test_a_page_that_has_the_table_gets_304_until_something_changes(
    live: LiveApp, clerks: list[Clerk]
) -> None:
    supervisor = clerks[0]
    first = await fetch(supervisor)
    tag = first.headers["etag"]
    assert first.headers["cache-control"] == "private, no-cache"
    renders = fragment_stats(live)["renders"]

    again = await fetch(supervisor, **{"If-None-Match": tag})
    assert again.status_code == 304
    assert again.content == b""
    assert fragment_stats(live)["renders"] == renders

    p = await a_purchase("supply", "draft")
    assert (await move(supervisor, "supply", p["id"], "pending")).status_code == 200
    changed = await fetch(supervisor, **{"If-None-Match": tag})
    assert changed.status_code == 200
    assert changed.headers["etag"] != tag
    assert statuses(changed)[str(p["id"])] == "pending"


@pytest.mark.parametrize("tuned", [{"catch_up_s": 2.0}], indirect=True)
async def test_a_process_behind_the_page_reads_first_instead_of_serving_an_older_table(
    tuned: LiveApp,
) -> None:
    async with tuned.client() as http:
        clerk = Clerk(http)
        await clerk.login("supervisor")
        await fetch(clerk)  # the view as of now is cached
        supervisor = await actor_named("supervisor")
        p = await a_purchase("supply", "draft")
        # Made with changes of its own, not the app's: its hub is not told, as if made elsewhere.
        change = await change_status(
            Changes(), Kind.SUPPLY, p["id"], Status.PENDING, p["version"], "", supervisor
        )
        # The page heard of the change (from another process) and asks with its event id.
        fresh = await fetch(clerk, **{"X-Event-Id": str(change.event_id)})
        assert statuses(fresh)[str(p["id"])] == "pending"
