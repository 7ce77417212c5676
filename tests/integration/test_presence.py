"""Presence through real streams: who has a purchase open reaches the others watching it, the
index pages' editing markers reach whoever may see the purchase, and nobody else learns of it."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack

from purchasing.tables import Farm
from tests.helpers.app import LiveApp, signed_in
from tests.helpers.databases import SQLITE_ONLY
from tests.helpers.demo import a_purchase
from tests.helpers.report import TEST_REPORT
from tests.helpers.sse import Frame, Stream, open_stream


async def next_of(stream: Stream, event: str) -> Frame:
    while True:
        frame = await stream.next_event()
        if frame.event == event:
            return frame


# Presence lives in the streams and the broker; the one query (scope) is plain: SQLite alone.
pytestmark = SQLITE_ONLY


def names(frame: Frame) -> list[tuple[str, str]]:
    return [(p["name"], p["mode"]) for p in frame.json["people"]]


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
