"""Figures tests measure along the way (never asserted), printed after the run."""

from __future__ import annotations

TEST_REPORT: list[str] = []
