"""The last minutes of delivery, minute by minute, for the monitor page.

Prometheus keeps the long history (`purchasing_delivery_delay_seconds`); this keeps just enough in
memory to draw the last quarter of an hour without one: events per minute, and a bounded sample
of each minute's delivery delays for its p50 and p99, each by company, so that an Administrator
is shown their own company's figures only.
"""

from __future__ import annotations

import math
import random
from collections import Counter, deque
from dataclasses import dataclass, field

from purchasing.live.events import Event

MINUTES = 15
SAMPLES_PER_MINUTE = 2_000


@dataclass
class Minute:
    start: int  # Unix time of the minute's first second
    events: Counter[int] = field(default_factory=Counter)  # by company
    delays: list[tuple[int, float]] = field(default_factory=list)  # (company, seconds)
    delays_seen: int = 0


@dataclass(frozen=True)
class MinuteSummary:
    start: int
    events: int
    p50: float | None  # seconds; None when nothing was delivered that minute
    p99: float | None


def percentile(ordered: list[float], share: float) -> float:
    """Nearest-rank percentile of an ascending list that is not empty."""
    return ordered[max(math.ceil(share * len(ordered)) - 1, 0)]


class Recent:
    def __init__(self, minutes: int = MINUTES, samples: int = SAMPLES_PER_MINUTE) -> None:
        self.minutes: deque[Minute] = deque(maxlen=minutes)
        self.samples = samples
        self._random = random.Random()  # noqa: S311 (sampling, not secrets)

    def add(self, event: Event, now: float, delay: float | None) -> None:
        """Count `event`, read at `now`; `delay` is None when no stream was there to take it."""
        start = int(now // 60) * 60
        if not self.minutes or self.minutes[-1].start != start:
            self.minutes.append(Minute(start))
        minute = self.minutes[-1]
        minute.events[event.company_id] += 1
        if delay is None:
            return
        minute.delays_seen += 1
        sample = (event.company_id, delay)
        if len(minute.delays) < self.samples:
            minute.delays.append(sample)
        else:  # reservoir sampling: every delay of the minute has the same chance to be kept
            slot = self._random.randrange(minute.delays_seen)
            if slot < self.samples:
                minute.delays[slot] = sample

    def series(self, now: float, company: int | None = None) -> list[MinuteSummary]:
        """One summary per minute of the last `maxlen` minutes, oldest first, quiet ones too: of
        every company, or of `company` only."""
        count = self.minutes.maxlen or MINUTES
        current = int(now // 60) * 60
        kept = {minute.start: minute for minute in self.minutes}
        summaries = []
        for start in range(current - 60 * (count - 1), current + 1, 60):
            minute = kept.get(start, Minute(start))
            events = minute.events.total() if company is None else minute.events[company]
            ordered = sorted(d for c, d in minute.delays if company is None or c == company)
            if not ordered:
                summaries.append(MinuteSummary(start, events, None, None))
                continue
            p50, p99 = percentile(ordered, 0.5), percentile(ordered, 0.99)
            summaries.append(MinuteSummary(start, events, p50, p99))
        return summaries
