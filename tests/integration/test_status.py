"""Status changes through the route: success, rule errors, conflicts and races."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from purchasing import db
from purchasing.domain.statuses import Kind, Status
from purchasing.services.changes import Changes
from purchasing.services.listing import TableQuery, list_purchases
from purchasing.services.status import StaleVersion, change_status
from purchasing.tables import OutboxEvent, Purchase, StatusHistory
from tests.helpers.app import Clerk, LiveApp
from tests.helpers.demo import a_purchase, actor_named, user_id


async def state(purchase_id: int) -> dict[str, object]:
    row = (
        await Purchase.select(Purchase.status, Purchase.version)
        .where(Purchase.id == purchase_id)
        .first()
    )
    assert row is not None
    return dict(row)


async def history(purchase_id: int) -> list[dict[str, object]]:
    return (
        await StatusHistory.select()
        .where(StatusHistory.purchase == purchase_id)
        .order_by(StatusHistory.id)
    )


async def events_for(purchase_id: int) -> list[dict[str, object]]:
    return (
        await OutboxEvent.select()
        .where(OutboxEvent.purchase == purchase_id)
        .order_by(OutboxEvent.id)
    )


def url(kind: str, purchase_id: int) -> str:
    return f"/purchases/{kind}/{purchase_id}/status"


async def test_htmx_success_swaps_the_updated_row_and_writes_history(admin: Clerk) -> None:
    p = await a_purchase("supply", "draft")
    response = await admin.post(
        url("supply", p["id"]),
        {"status": "pending", "version": p["version"], "number": "3"},
        htmx=True,
    )
    assert response.status_code == 200
    html = response.text.strip()
    assert html.startswith(f'<tr id="purchase-{p["id"]}"')
    assert 'data-status="pending"' in html
    assert f'data-version="{p["version"] + 1}"' in html
    assert "is now Pending." in html
    assert '<td class="num row-number">3</td>' in html  # the row keeps its number
    assert await state(p["id"]) == {"status": "pending", "version": p["version"] + 1}
    last = (await history(p["id"]))[-1]
    assert (last["from_status"], last["to_status"], last["changed_by"]) == (
        "draft",
        "pending",
        await user_id("admin"),
    )
    assert last["client_ip"]
    assert last["user_agent"]


async def test_without_javascript_the_change_redirects_back_with_a_message(admin: Clerk) -> None:
    p = await a_purchase("feed", "pending")
    back = f"/purchases/feed/{p['id']}"
    response = await admin.post(
        url("feed", p["id"]), {"status": "confirmed", "version": p["version"], "next": back}
    )
    assert response.status_code == 303
    assert response.headers["location"] == back
    page = await admin.get(back)
    assert "is now Confirmed." in page.text
    assert (await state(p["id"]))["status"] == "confirmed"


@pytest.mark.parametrize(
    ("kind", "status", "target", "notes", "message"),
    [
        ("feed", "arrived", "cancelled", "wrong sacks", "cannot go from Arrived to Cancelled"),
        ("supply", "completed", "draft", "", "Completed is final"),
        ("supply", "arrived", "completed", "", "A note is required"),
        ("livestock", "arrived", "completed", "ok", "cannot go from Arrived to Completed"),
        ("supply", "draft", "in_coop", "", "not a status of supply"),
        ("supply", "draft", "pending", "late\x00", "Remove the NUL character"),
    ],
)
async def test_rule_errors_are_shown_at_the_row_and_change_nothing(
    admin: Clerk, kind: str, status: str, target: str, notes: str, message: str
) -> None:
    p = await a_purchase(kind, status)
    before = await history(p["id"])
    response = await admin.post(
        url(kind, p["id"]), {"status": target, "version": p["version"], "notes": notes}, htmx=True
    )
    assert response.status_code == 422
    assert message in response.text
    assert f'data-status="{status}"' in response.text
    assert await state(p["id"]) == {"status": status, "version": p["version"]}
    assert await history(p["id"]) == before


async def test_an_operator_cannot_complete(client: httpx.AsyncClient) -> None:
    operator = Clerk(client)
    await operator.login("operator")
    p = await a_purchase("supply", "arrived", farm=1)
    response = await operator.post(
        url("supply", p["id"]),
        {"status": "completed", "version": p["version"], "notes": "done"},
        htmx=True,
    )
    assert response.status_code == 422
    assert "Only a Supervisor or higher" in response.text
    assert (await state(p["id"]))["status"] == "arrived"


async def test_a_supervisor_completes_with_a_note(client: httpx.AsyncClient) -> None:
    supervisor = Clerk(client)
    await supervisor.login("supervisor")
    p = await a_purchase("livestock", "in_coop")
    response = await supervisor.post(
        url("livestock", p["id"]),
        {"status": "completed", "version": p["version"], "notes": "all chicks placed"},
        htmx=True,
    )
    assert response.status_code == 200
    assert (await history(p["id"]))[-1]["notes"] == "all chicks placed"


async def test_a_stale_version_is_a_conflict_and_changes_nothing(admin: Clerk) -> None:
    p = await a_purchase("supply", "pending")
    response = await admin.post(
        url("supply", p["id"]), {"status": "confirmed", "version": p["version"] - 1}, htmx=True
    )
    assert response.status_code == 409
    assert "Someone else changed this purchase meanwhile" in response.text
    # The row comes back as it is now, so the clerk sees the current state.
    assert f'data-version="{p["version"]}"' in response.text
    assert await state(p["id"]) == {"status": "pending", "version": p["version"]}


async def test_a_double_submit_changes_once_and_says_so(admin: Clerk) -> None:
    p = await a_purchase("feed", "draft")
    before = await events_for(p["id"])
    form = {"status": "pending", "version": p["version"]}
    first = await admin.post(url("feed", p["id"]), form, htmx=True)
    second = await admin.post(url("feed", p["id"]), form, htmx=True)
    assert (first.status_code, second.status_code) == (200, 200)
    assert "is now Pending" in first.text
    assert "is already Pending" in second.text
    assert len(await history(p["id"])) == 2
    assert len(await events_for(p["id"])) == len(before) + 1


async def test_a_stale_retry_after_the_debounce_window_is_a_conflict(admin: Clerk) -> None:
    p = await a_purchase("supply", "draft")
    form = {"status": "pending", "version": p["version"]}
    assert (await admin.post(url("supply", p["id"]), form, htmx=True)).status_code == 200
    earlier = datetime.now(UTC) - timedelta(seconds=3)
    await StatusHistory.update({StatusHistory.changed_at: earlier}).where(
        StatusHistory.purchase == p["id"]
    )
    retry = await admin.post(url("supply", p["id"]), form, htmx=True)
    assert retry.status_code == 409
    assert len(await history(p["id"])) == 2


async def test_concurrent_changes_of_one_purchase_exactly_one_wins(live: LiveApp) -> None:
    p = await a_purchase("supply", "confirmed")
    before = len(await history(p["id"]))
    targets = ["pending", "draft", "in_transit", "arrived"] * 5

    async def attempt(clerk: Clerk, target: str) -> int:
        response = await clerk.post(
            url("supply", p["id"]), {"status": target, "version": p["version"]}, htmx=True
        )
        return int(response.status_code)

    events_before = await events_for(p["id"])
    async with AsyncExitStack() as stack:
        # Logged in one after the other: the race is the moves', not the logins'.
        clerks = []
        for _ in targets:
            clerk = Clerk(await stack.enter_async_context(live.client()))
            assert (await clerk.login("admin")).status_code == 303
            clerks.append(clerk)
        codes = await asyncio.gather(*map(attempt, clerks, targets))
    after = await state(p["id"])
    assert after["version"] == p["version"] + 1
    rows = await history(p["id"])
    assert len(rows) == before + 1
    assert rows[-1]["to_status"] == after["status"]
    assert len(await events_for(p["id"])) == len(events_before) + 1
    # The winner and the retries of the very same move succeed; every other move conflicts.
    same_move = [
        code for code, target in zip(codes, targets, strict=True) if target == after["status"]
    ]
    assert same_move == [200] * targets.count(str(after["status"]))
    assert codes.count(409) == len(targets) - len(same_move)


async def test_simultaneous_moves_in_the_service_see_each_other(database: str) -> None:
    """The row lock (PostgreSQL) or the write lock (SQLite) makes the second of two simultaneous
    moves see the first: an identical one is a duplicate, a different one a conflict."""
    engine = db.current_engine()
    await db.start(engine)
    try:
        changes = Changes()
        supervisor = await actor_named("supervisor")
        manager = await actor_named("manager")
        page = await list_purchases(Kind.FEED, TableQuery(status="draft"), supervisor)
        mine, theirs = page.rows[0], page.rows[1]
        events_before = await OutboxEvent.count().where(OutboxEvent.purchase == mine.id)
        same = [
            change_status(changes, Kind.FEED, mine.id, Status.PENDING, mine.version, "", supervisor)
            for _ in range(2)
        ]
        results = await asyncio.gather(*same)
        assert sorted(r.duplicate for r in results) == [False, True]
        assert await OutboxEvent.count().where(OutboxEvent.purchase == mine.id) == (
            events_before + 1
        )

        first = change_status(
            changes, Kind.FEED, theirs.id, Status.PENDING, theirs.version, "", supervisor
        )
        rival = change_status(
            changes, Kind.FEED, theirs.id, Status.CONFIRMED, theirs.version, "", manager
        )
        outcomes = await asyncio.gather(first, rival, return_exceptions=True)
        conflicts = [o for o in outcomes if isinstance(o, StaleVersion)]
        assert len(conflicts) == 1
        winner = next(o for o in outcomes if not isinstance(o, BaseException))
        assert f"it is now {winner.new_status.label}" in str(conflicts[0])
    finally:
        await db.stop(engine)


async def test_two_apps_in_one_process_hear_only_their_own_commits(database: str) -> None:
    """Each app has its own `Changes`: a change made through one is told to that one's
    listeners (its hub) alone, and a retried move counts as suppressed there alone."""
    engine = db.current_engine()
    await db.start(engine)
    try:
        first, second = Changes(), Changes()
        heard: dict[str, list[int]] = {"first": [], "second": []}
        first.on_commit(lambda event_id, _row: heard["first"].append(event_id))
        second.on_commit(lambda event_id, _row: heard["second"].append(event_id))
        supervisor = await actor_named("supervisor")
        p = await a_purchase("supply", "draft")

        await change_status(
            first, Kind.SUPPLY, p["id"], Status.PENDING, p["version"], "", supervisor
        )
        retried = await change_status(
            second, Kind.SUPPLY, p["id"], Status.PENDING, p["version"], "", supervisor
        )

        assert [e["id"] for e in await events_for(p["id"])][-1:] == heard["first"]
        assert heard["second"] == []
        assert retried.duplicate
        assert (first.suppressed, second.suppressed) == (0, 1)
    finally:
        await db.stop(engine)


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"status": "shipped", "version": "1"}, "Choose a status"),
        ({"status": "", "version": "1"}, "Choose a status"),
        ({"status": "pending", "version": "x"}, "lost its version"),
    ],
)
async def test_malformed_forms_get_a_clear_message(
    admin: Clerk, form: dict[str, str], message: str
) -> None:
    p = await a_purchase("supply", "draft")
    response = await admin.post(url("supply", p["id"]), form, htmx=True)
    assert response.status_code == 422
    assert message in response.text
    assert (await state(p["id"]))["status"] == "draft"


async def test_unknown_or_mismatched_purchases_are_not_found(admin: Clerk) -> None:
    p = await a_purchase("supply", "draft")
    assert (
        await admin.post(url("supply", 999999), {"status": "pending", "version": 1}, htmx=True)
    ).status_code == 404
    assert (
        await admin.post(
            url("feed", p["id"]), {"status": "pending", "version": p["version"]}, htmx=True
        )
    ).status_code == 404
    assert (await state(p["id"]))["status"] == "draft"


async def test_rows_offer_only_the_moves_this_user_may_make(
    client: httpx.AsyncClient,
) -> None:
    operator = Clerk(client)
    await operator.login("operator")
    p = await a_purchase("feed", "arrived", farm=1)
    html = (await operator.get("/purchases/feed?status=arrived&per_page=50", htmx=True)).text
    start = html.index(f'id="purchase-{p["id"]}"')
    row = html[start : html.index("</tr>", start)]
    # Feed may only complete after arrival, which an Operator may not do.
    assert 'data-testid="status-control"' not in row
    assert "No moves available" in row


@pytest.mark.parametrize("kind", ["supply", "feed", "livestock"])
async def test_the_row_a_move_answers_is_the_row_the_table_shows(admin: Clerk, kind: str) -> None:
    """The answered row is read in the move's own transaction; the table reads it on its own:
    the two agree cell for cell (names, coops, head count, price per head, totals, status)."""
    p = await a_purchase(kind, "draft")
    moved = await admin.post(
        url(kind, p["id"]), {"status": "pending", "version": p["version"], "number": "1"}, True
    )
    assert moved.status_code == 200
    table = await admin.get(f"/purchases/{kind}?q={p['invoice_number']}", htmx=True)

    def cells(html: str) -> str:
        start = html.index(f'<tr id="purchase-{p["id"]}"')
        return html[start : html.index('class="actions"', start)]

    assert 'data-status="pending"' in cells(moved.text)
    assert cells(moved.text) == cells(table.text)
