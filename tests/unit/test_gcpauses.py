"""The collector's pauses are timed by generation and reported for /health."""

from __future__ import annotations

import gc

from purchasing.gcpauses import GcPauses, freeze_startup, thaw


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


def test_objects_alive_at_startup_are_frozen_until_thawed() -> None:
    kept = [object() for _ in range(1000)]
    freeze_startup()
    try:
        assert gc.get_freeze_count() >= len(kept)
    finally:
        thaw()
    assert gc.get_freeze_count() == 0
