"""Percentiles of one run, and the median/min/max spread of a figure over several runs."""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any


def percentile(ordered: Sequence[float], q: float) -> float:
    """The `q` percentile (0-100) of already sorted values, nearest-rank; NaN when empty."""
    if not ordered:
        return math.nan
    rank = max(math.ceil(q / 100 * len(ordered)), 1)
    return ordered[min(rank, len(ordered)) - 1]


def latency_summary(values: Iterable[float]) -> dict[str, float | None]:
    """p50, p99 and max of one run's latencies (seconds; None when there were none), and how
    many there were."""
    ordered = sorted(values)
    if not ordered:
        return {"count": 0, "p50": None, "p99": None, "max": None}
    return {
        "count": len(ordered),
        "p50": percentile(ordered, 50),
        "p99": percentile(ordered, 99),
        "max": ordered[-1],
    }


@dataclass(frozen=True)
class Spread:
    """One figure measured in several runs: the median, and the lowest and highest run."""

    median: float
    low: float
    high: float
    runs: int

    @classmethod
    def of(cls, values: Iterable[float | None]) -> Spread:
        kept = [v for v in values if v is not None and not math.isnan(v)]
        if not kept:
            return cls(math.nan, math.nan, math.nan, 0)
        return cls(statistics.median(kept), min(kept), max(kept), len(kept))

    def as_dict(self) -> dict[str, Any]:
        return {
            "median": _plain(self.median),
            "min": _plain(self.low),
            "max": _plain(self.high),
            "runs": self.runs,
        }

    def text(self, scale: float = 1.0, digits: int = 1, unit: str = "") -> str:
        """`median [min-max]unit`, each value multiplied by `scale`."""
        if self.runs == 0:
            return "n/a"
        low, mid, high = (_number(v * scale, digits) for v in (self.low, self.median, self.high))
        return f"{mid}{unit} [{low}-{high}]"


def ratios(numerators: Sequence[float | None], denominators: Sequence[float | None]) -> Spread:
    """Per-run ratios of two figures measured side by side in the same runs, then their spread."""
    values: list[float | None] = []
    for top, bottom in zip(numerators, denominators, strict=True):
        if top is None or bottom is None or math.isnan(top) or math.isnan(bottom) or bottom <= 0:
            values.append(None)
        else:
            values.append(top / bottom)
    return Spread.of(values)


def _number(value: float, digits: int) -> str:
    if math.isnan(value):
        return "n/a"
    if abs(value) >= 1_000:
        return f"{value:,.0f}"
    return f"{value:.{digits}f}"


def _plain(value: float) -> float | None:
    """JSON has no NaN: a figure that could not be measured is null."""
    return None if math.isnan(value) else value
