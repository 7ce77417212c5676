"""Event ids are gap-free and appear in commit order however many processes write at once."""

from __future__ import annotations

import multiprocessing
from typing import Any

import pytest

from tests.helpers import outbox_load
from tests.helpers.report import TEST_REPORT

WRITERS = 4
READERS = 2
PER_WRITER = 60


def test_concurrent_writers_in_several_processes_give_gap_free_ordered_ids(
    migrated_database: str, request: pytest.FixtureRequest
) -> None:
    spawn = multiprocessing.get_context("spawn")
    results: Any = spawn.Queue()
    expected = WRITERS * (PER_WRITER - PER_WRITER // 5)
    processes = [
        spawn.Process(target=outbox_load.read, args=(migrated_database, n, expected, results))
        for n in range(READERS)
    ] + [
        spawn.Process(target=outbox_load.write, args=(migrated_database, n, PER_WRITER, results))
        for n in range(WRITERS)
    ]
    for process in processes:
        process.start()
    reports = [results.get(timeout=180) for _ in processes]
    for process in processes:
        process.join(30)
        assert process.exitcode == 0

    writers = [r for r in reports if r[0] == "writer"]
    committed = sum(r[2] for r in writers)
    abandoned = sum(r[3] for r in writers)
    assert all(r[2] >= 0 for r in writers), writers
    assert committed == expected
    assert abandoned == WRITERS * (PER_WRITER // 5)
    for _, reader, seen in (r for r in reports if r[0] == "reader"):
        # Every reader saw every committed event exactly once, ids 1..N with no gap: an event
        # committing after a reader had moved past its id would be missing here.
        assert seen == list(range(1, expected + 1)), f"reader {reader}"
    TEST_REPORT.append(
        f"concurrent writers [{request.node.callspec.id}]: {WRITERS} processes x {PER_WRITER} "
        f"transactions, {committed} committed, {abandoned} rolled back; {READERS} reader "
        f"processes each saw ids 1..{committed} in order, none missing or repeated"
    )
