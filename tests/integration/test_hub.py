"""The per-process reader: one read feeds every stream, each event encoded once."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from purchasing.domain.statuses import Kind, Status
from purchasing.live import outbox
from purchasing.live.hub import Hub
from purchasing.presentation.toasts import wording
from purchasing.services.changes import Changes
from purchasing.services.status import change_status
from tests.helpers.demo import a_purchase, actor_named
from tests.helpers.sse import eventually


@pytest.fixture
async def hub(database: str) -> AsyncIterator[Hub]:
    """A started hub reading this test's demo database (tables bound by `database`)."""
    started = Hub(wording=wording, queue_limit=8, retention=100, catch_up_s=60)
    await started.start()
    yield started
    await started.stop()


async def test_every_stream_gets_the_same_encoded_frame(hub: Hub) -> None:
    everyone = [await hub.subscribe(lambda event: True, None) for _ in range(3)]
    supervisor = await actor_named("supervisor")
    p = await a_purchase("supply", "draft")
    await change_status(
        Changes(), Kind.SUPPLY, p["id"], Status.PENDING, p["version"], "", supervisor
    )
    await hub.poll()
    frames = [subscriber.frames[0] for subscriber in everyone]
    assert frames[0] is frames[1] is frames[2]
    assert frames[0].startswith(
        b"id: %d\nevent: supply_purchase_status_changed\ndata: {" % hub.last_id
    )


async def test_a_commit_in_this_process_wakes_the_reader_without_waiting_for_the_timer(
    hub: Hub,
) -> None:
    subscriber = await hub.subscribe(lambda event: True, None)
    supervisor = await actor_named("supervisor")
    p = await a_purchase("feed", "draft")
    changes = Changes()
    changes.on_commit(hub.committed)  # as the app wires its hub
    await change_status(changes, Kind.FEED, p["id"], Status.PENDING, p["version"], "", supervisor)
    # The timer is 60 s here: only the commit signal can bring the event this soon.
    await eventually(lambda: bool(subscriber.frames))
    assert subscriber.cursor == await outbox.newest_id()


async def test_unsubscribing_forgets_the_stream(hub: Hub) -> None:
    subscriber = await hub.subscribe(lambda event: True, None)
    hub.unsubscribe(subscriber)
    assert hub.subscribers == set()


async def test_a_broadcast_reaches_every_stream_and_moves_no_cursor(hub: Hub) -> None:
    nothing_visible = [await hub.subscribe(lambda event: False, None) for _ in range(2)]
    cursors = [subscriber.cursor for subscriber in nothing_visible]
    frame = b'event: dev_reload\ndata: {"paths": []}\n\n'
    assert hub.broadcast(frame) == 2
    assert [subscriber.frames for subscriber in nothing_visible] == [[frame], [frame]]
    assert [subscriber.cursor for subscriber in nothing_visible] == cursors
