"""The collector's pauses are timed by generation and reported for /health."""

from __future__ import annotations

import gc

import pytest

from purchasing import gcpauses
from purchasing.gcpauses import GcPauses, StreamFreezer, freeze_startup, thaw


def test_each_collection_is_counted_and_timed_by_generation() -> None:
    pauses = GcPauses()
    pauses.install()
    try:
        gc.collect(0)
        gc.collect(2)
        gc.collect(2)
    finally:
        pauses.uninstall()
    gc.collect(2)  # not counted: the callback is gone
    report = pauses.as_dict()
    assert report["collections"][0] >= 1
    assert report["collections"][2] == 2
    assert report["longest_ms"][2] > 0
    assert report["total_ms"][2] >= report["longest_ms"][2]


def test_objects_alive_at_startup_are_frozen_until_thawed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gcpauses, "_started", [])
    kept = [[n] for n in range(1000)]
    freeze_startup()
    try:
        assert gc.get_freeze_count() >= len(kept)
    finally:
        thaw()
    assert gc.get_freeze_count() == 0


def test_a_second_app_in_one_process_does_not_collect_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(gcpauses, "_started", [])
    freeze_startup()
    thaw()
    collections = gc.get_stats()[2]["collections"]
    freeze_startup()
    assert gc.get_stats()[2]["collections"] == collections
    assert gc.get_freeze_count() == 0


class FakeCollector:
    """What the freezer asks of the collector, in order."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def collect(self, generation: int = 2) -> int:
        self.calls.append(f"collect({generation})")
        return 0

    def freeze(self) -> None:
        self.calls.append("freeze")

    def unfreeze(self) -> None:
        self.calls.append("unfreeze")


def test_streams_are_frozen_as_they_grow_and_given_back_once_most_have_gone() -> None:
    fake = FakeCollector()
    freezer = StreamFreezer(100, fake.collect, fake.freeze, fake.unfreeze)
    for open_now in range(1, 100):
        freezer.opened(open_now)
    assert fake.calls == []  # a few streams: nothing frozen
    freezer.opened(100)
    assert fake.calls == ["collect(1)", "freeze"]
    for open_now in range(101, 1001):
        freezer.opened(open_now)
    # Every 100 streams, then every quarter more: 200, 300, 400, 500, 625, 781, 976.
    assert (freezer.freezes, freezer.frozen_at) == (8, 976)
    fake.calls.clear()
    for open_now in range(999, 49, -1):
        freezer.closed(open_now)
    assert fake.calls == []  # half a step or more still open
    freezer.closed(49)
    assert fake.calls == ["unfreeze", "collect(2)", "freeze"]
    freezer.closed(10)
    assert (freezer.thaws, freezer.frozen_at) == (1, 0)  # given back once
    freezer.opened(99)
    assert freezer.freezes == 8  # the next storm freezes again from 100


def test_a_real_freeze_keeps_open_streams_out_of_full_collections() -> None:
    """Objects alive at a freeze are not walked by a later full collection; given back, they
    are (the count of frozen objects says which)."""
    freezer = StreamFreezer(step=10)
    held = [[object()] for _ in range(10)]  # what ten open streams would hold
    before = gc.get_freeze_count()
    try:
        for open_now in range(1, 11):
            freezer.opened(open_now)
        assert gc.get_freeze_count() >= before + len(held)
        freezer.closed(4)
        assert freezer.thaws == 1
        assert gc.get_freeze_count() >= before  # what was left is frozen again
    finally:
        gc.unfreeze()
