"""Presence through real streams: who has a purchase open reaches the others watching it, the
index pages' editing markers reach whoever may see the purchase, and nobody else learns of it,
then or after the purchase moves or their permissions change."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack

import pytest

from purchasing.services.users import update_user
from purchasing.tables import Farm
from tests.helpers.app import Clerk, LiveApp, signed_in
from tests.helpers.databases import SQLITE_ONLY
from tests.helpers.demo import a_purchase, move
from tests.helpers.forms import form_fields, header, ids, valid_lines
from tests.helpers.report import TEST_REPORT
from tests.helpers.sse import Frame, Stream, open_stream


async def next_of(stream: Stream, event: str) -> Frame:
    while True:
        frame = await stream.next_event()
        if frame.event == event:
            return frame


def names(frame: Frame) -> list[tuple[str, str]]:
    return [(p["name"], p["mode"]) for p in frame.json["people"]]


async def people_on(stream: Stream, purchase_id: int) -> list[tuple[str, str]]:
    """The people of the next presence frame about `purchase_id`."""
    while True:
        frame = await next_of(stream, "presence")
        if frame.json["purchase_id"] == purchase_id:
            return names(frame)


async def told_until(stream: Stream, purchase_id: int) -> list[Frame]:
    """The presence and editing frames `stream` receives before the next event of
    `purchase_id`: a stream keeps its frames in order, so that event closes what came before."""
    found = []
    while True:
        frame = await stream.next_event()
        if frame.event in ("presence", "editing"):
            found.append(frame)
        elif frame.id is not None and frame.json.get("purchase_id") == purchase_id:
            return found


async def new_purchase(clerk: Clerk, farm: str) -> int:
    """A fresh supply draft on `farm`: an event that everyone who may see that farm receives."""
    ref = await ids()
    invoice = f"INV/PRESENCE/{farm}/{id(clerk)}"
    data = header(ref, invoice=invoice, farm=ref[farm], **valid_lines("supply", ref))
    response = await clerk.post("/purchases/supply/new", data)
    assert response.status_code == 303, response.text
    return int(response.headers["location"].rsplit("/", 1)[1])


async def move_to_farm(clerk: Clerk, purchase_id: int, farm: str) -> None:
    """Edit the purchase's farm, as its form would."""
    page = await clerk.get(f"/purchases/supply/{purchase_id}/edit")
    fields = form_fields(page.text) | {"farm": str((await ids())[farm]), "action": "save"}
    response = await clerk.post(f"/purchases/supply/{purchase_id}/edit", fields)
    assert response.status_code == 303, response.text


# Most of presence lives in the streams and the broker, its one query is plain: SQLite alone. The
# tests of scope that follows changes run on both engines.
@SQLITE_ONLY
async def test_people_on_a_purchase_see_each_other_and_nobody_else_sees_them(
    live: LiveApp,
) -> None:
    draft = await a_purchase("supply", "draft")
    here = f"supply:{draft['id']}"
    admin, manager = await signed_in(live, "admin"), await signed_in(live, "manager")
    supervisor, stranger = await signed_in(live, "supervisor"), await signed_in(live, "admin2")
    async with AsyncExitStack() as streams:
        watching = await streams.enter_async_context(
            open_stream(manager.client, f"/events?here={here}:viewing")
        )
        assert names(await next_of(watching, "presence")) == []
        index = await streams.enter_async_context(open_stream(supervisor.client, "/events"))
        outsider = await streams.enter_async_context(
            open_stream(stranger.client, f"/events?here={here}:viewing")
        )
        async with open_stream(admin.client, f"/events?here={here}:editing") as editing:
            assert names(await next_of(editing, "presence")) == [("Manager", "viewing")]
            assert names(await next_of(watching, "presence")) == [("Admin", "editing")]
            marker = await next_of(index, "editing")
            assert marker.json == {
                "kind": "supply",
                "purchase_id": draft["id"],
                "editors": ["Admin"],
            }
            assert marker.id is None  # state, not history: no cursor moves
        assert names(await next_of(watching, "presence")) == []
        assert (await next_of(index, "editing")).json["editors"] == []
        # Another company's clerk named the purchase too: told nothing, shown to nobody.
        assert [f for f in outsider.pending() if f.event in ("presence", "editing")] == []
        assert all("Admin2" not in f.data for f in watching.pending())


@SQLITE_ONLY
async def test_a_stream_is_heard_only_for_the_purchases_its_user_may_see(live: LiveApp) -> None:
    f01 = await Farm.select(Farm.id).where(Farm.code == "F01").first()
    f03 = await Farm.select(Farm.id).where(Farm.code == "F03").first()
    assert f01 is not None
    assert f03 is not None
    theirs = await a_purchase("supply", "draft", farm=f01["id"])
    mine = await a_purchase("supply", "draft", farm=f03["id"])
    operator = await signed_in(live, "operator3")  # farm F03 only
    wanted = [f"supply:{theirs['id']}:viewing", f"supply:{mine['id']}:viewing"]
    wanted += [f"feed:{mine['id']}:viewing", "supply:999999:editing", "nonsense"]
    async with open_stream(operator.client, f"/events?here={','.join(wanted)}") as stream:
        told = await next_of(stream, "presence")
        assert (told.json["kind"], told.json["purchase_id"]) == ("supply", mine["id"])
        assert [f for f in stream.pending() if f.event == "presence"] == []


# Longer than a presence beat (5 s): the beats between processes bring an idle page nothing.
IDLE_WINDOW_S = 6


@SQLITE_ONLY
async def test_what_an_idle_page_with_someone_else_on_it_receives(live: LiveApp) -> None:
    """Presence costs an idle page no frames: only the stream's own heartbeats (one after each
    15 s of silence: the bench's `idle` scenario measures their bytes per client-hour)."""
    draft = await a_purchase("supply", "draft")
    here = f"supply:{draft['id']}"
    viewer, other = await signed_in(live, "manager"), await signed_in(live, "admin")
    async with (
        open_stream(viewer.client, f"/events?here={here}:viewing") as watching,
        open_stream(other.client, f"/events?here={here}:viewing"),
    ):
        assert names(await next_of(watching, "presence")) == []  # alone when it opened
        assert names(await next_of(watching, "presence")) == [("Admin", "viewing")]
        watching.pending()
        await asyncio.sleep(IDLE_WINDOW_S)  # the window measured: an idle page, on purpose
        frames = watching.pending()
    others = [frame for frame in frames if frame.comment is None]
    TEST_REPORT.append(
        f"presence, an idle page with someone else on it: {len(others)} frames in "
        f"{IDLE_WINDOW_S} s besides heartbeats"
    )
    assert others == []


async def test_an_operator_whose_purchase_moves_to_another_farm_hears_no_more_of_it_nor_is_listed(
    live: LiveApp,
) -> None:
    draft = await a_purchase("supply", "draft", farm=(await ids())["F03"])
    here = f"supply:{draft['id']}"
    operator3, manager = await signed_in(live, "operator3"), await signed_in(live, "manager")
    admin, operator = await signed_in(live, "admin"), await signed_in(live, "operator")
    async with AsyncExitStack() as streams:
        moved_away = await streams.enter_async_context(
            open_stream(operator3.client, f"/events?here={here}:viewing")
        )
        assert names(await next_of(moved_away, "presence")) == []
        watching = await streams.enter_async_context(
            open_stream(manager.client, f"/events?here={here}:viewing")
        )
        assert names(await next_of(watching, "presence")) == [("Operator3", "viewing")]
        index = await streams.enter_async_context(open_stream(operator.client, "/events"))
        async with open_stream(admin.client, f"/events?here={here}:editing"):
            while ("Admin", "editing") not in names(await next_of(moved_away, "presence")):
                pass
            assert (await next_of(moved_away, "editing")).json["editors"] == ["Admin"]
            assert names(await next_of(watching, "presence"))[0] == ("Admin", "editing")
            await move_to_farm(admin, draft["id"], "F01")
            assert names(await next_of(watching, "presence")) == [("Admin", "editing")]
            assert (await next_of(index, "editing")).json["editors"] == ["Admin"]  # F01: theirs
        assert names(await next_of(watching, "presence")) == []
        assert (await next_of(index, "editing")).json["editors"] == []
        assert await told_until(moved_away, await new_purchase(admin, "F03")) == []


@pytest.mark.parametrize("tuned", [{"stream_recheck_s": 0.05}], indirect=True)
async def test_an_operator_taken_off_a_farm_hears_no_more_of_its_purchases_nor_is_listed(
    tuned: LiveApp,
) -> None:
    draft = await a_purchase("supply", "draft", farm=(await ids())["F01"])
    here = f"supply:{draft['id']}"
    operator, manager = await signed_in(tuned, "operator"), await signed_in(tuned, "manager")
    admin = await signed_in(tuned, "admin")
    async with AsyncExitStack() as streams:
        taken_off = await streams.enter_async_context(
            open_stream(operator.client, f"/events?here={here}:viewing")
        )
        assert names(await next_of(taken_off, "presence")) == []
        watching = await streams.enter_async_context(
            open_stream(manager.client, f"/events?here={here}:viewing")
        )
        assert names(await next_of(watching, "presence")) == [("Operator", "viewing")]
        async with open_stream(admin.client, f"/events?here={here}:editing"):
            while ("Admin", "editing") not in names(await next_of(taken_off, "presence")):
                pass
            assert (await next_of(taken_off, "editing")).json["editors"] == ["Admin"]
            assert names(await next_of(watching, "presence")) == [
                ("Admin", "editing"),
                ("Operator", "viewing"),
            ]
            await update_user("operator", farm_codes=("F02",))
            assert (await next_of(taken_off, "resync")).json["reason"] == "your permissions changed"
            # Presence frames are state: one said again before the change is no fault.
            while ("Operator", "viewing") in (now := names(await next_of(watching, "presence"))):
                pass
            assert now == [("Admin", "editing")]
        assert names(await next_of(watching, "presence")) == []
        assert await told_until(taken_off, await new_purchase(admin, "F02")) == []


async def test_an_operator_naming_a_livestock_purchase_as_editing_is_shown_as_viewing(
    live: LiveApp,
) -> None:
    draft = await a_purchase("livestock", "draft", farm=(await ids())["F01"])
    here = f"livestock:{draft['id']}"
    operator, manager = await signed_in(live, "operator"), await signed_in(live, "manager")
    async with open_stream(manager.client, f"/events?here={here}:viewing") as watching:
        assert names(await next_of(watching, "presence")) == []
        async with open_stream(operator.client, f"/events?here={here}:editing") as editing:
            assert names(await next_of(watching, "presence")) == [("Operator", "viewing")]
            assert names(await next_of(editing, "presence")) == [("Manager", "viewing")]


async def test_someone_editing_a_purchase_that_can_no_longer_be_edited_is_shown_as_viewing(
    live: LiveApp,
) -> None:
    done = (await a_purchase("supply", "completed"))["id"]
    moving = (await a_purchase("supply", "in_transit"))["id"]
    here = f"supply:{done}:{{0}},supply:{moving}:{{0}}"
    admin, manager = await signed_in(live, "admin"), await signed_in(live, "manager")
    async with open_stream(manager.client, "/events?here=" + here.format("viewing")) as watching:
        assert await people_on(watching, done) == await people_on(watching, moving) == []
        async with open_stream(admin.client, "/events?here=" + here.format("editing")):
            assert await people_on(watching, done) == [("Admin", "viewing")]
            assert await people_on(watching, moving) == [("Admin", "editing")]
            assert (await move(admin, "supply", moving, "arrived")).status_code == 200
            assert await people_on(watching, moving) == [("Admin", "viewing")]
