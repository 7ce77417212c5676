"""The monitor's last minutes: events per minute and each minute's delivery delays."""

from __future__ import annotations

from purchasing.live.events import Event
from purchasing.live.recent import Recent, percentile

AN_EVENT = Event(1, "feed_purchase_status_changed", "feed", 1, 1, b"", {}, 0.0)
NOON = 1_790_000_040.0  # a minute's first second


def test_percentiles_are_nearest_rank() -> None:
    ordered = [float(n) for n in range(1, 101)]
    assert percentile(ordered, 0.5) == 50
    assert percentile(ordered, 0.99) == 99
    assert percentile([7.0], 0.99) == 7


def test_each_minute_counts_its_events_and_the_delays_of_those_delivered() -> None:
    recent = Recent(minutes=3)
    for n in range(100):
        recent.add(AN_EVENT, NOON + 5, (n + 1) / 1000)
    recent.add(AN_EVENT, NOON + 65, None)  # read with no stream open: counted, no delay
    series = recent.series(NOON + 130)
    assert [(m.start - NOON, m.events) for m in series] == [(0, 100), (60, 1), (120, 0)]
    assert series[0].p50 == 0.05
    assert series[0].p99 == 0.099
    assert (series[1].p50, series[2].p99) == (None, None)


def test_only_the_last_minutes_are_kept() -> None:
    recent = Recent(minutes=2)
    for minute in range(5):
        recent.add(AN_EVENT, NOON + 60 * minute, 0.001)
    series = recent.series(NOON + 60 * 4)
    assert [m.events for m in series] == [1, 1]
    assert len(recent.minutes) == 2


def test_a_busy_minute_keeps_a_bounded_sample_of_every_part_of_it() -> None:
    recent = Recent(minutes=1, samples=100)
    for n in range(10_000):
        recent.add(AN_EVENT, NOON, 0.001 if n < 5_000 else 1.0)
    (minute,) = recent.series(NOON)
    assert minute.events == 10_000
    assert len(recent.minutes[0].delays) == 100
    # A sample of the first 100 only would say every delay was 1 ms.
    assert minute.p99 == 1.0
    assert minute.p50 in (0.001, 1.0)


def test_a_company_sees_only_its_own_events_and_delays() -> None:
    recent = Recent(minutes=1)
    ours = Event(1, "feed_purchase_status_changed", "feed", 1, 1, b"", {}, 0.0)
    theirs = Event(2, "feed_purchase_status_changed", "feed", 2, 9, b"", {}, 0.0)
    recent.add(ours, NOON, 0.002)
    for _ in range(3):
        recent.add(theirs, NOON, 0.5)
    ((everyone,), (company_1,), (company_3,)) = (
        recent.series(NOON),
        recent.series(NOON, company=1),
        recent.series(NOON, company=3),
    )
    assert (everyone.events, everyone.p99) == (4, 0.5)
    assert (company_1.events, company_1.p50, company_1.p99) == (1, 0.002, 0.002)
    assert (company_3.events, company_3.p50) == (0, None)
