"""Figures tests measure along the way (never asserted), printed after the run."""

from __future__ import annotations

TEST_REPORT: list[str] = []
# What the hostile-input suite sent and what came back, reported after the run.
HOSTILE_RESULTS: dict[tuple[str, int], int] = {}
LATENCIES: list[float] = []  # click in one browser to the change in another's table, in ms
COALESCED: list[tuple[str, int, int]] = []  # (kind, events in a burst, table refreshes they caused)
