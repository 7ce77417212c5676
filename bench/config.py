"""How big and how long each scenario is, in quick and in full mode."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Mode:
    name: str
    runs: int  # every figure is the median of this many runs, shown with their min and max
    per_kind: int  # `seed-demo --per-kind`
    # N streams on one app worker; memory and tasks per connection are read at each N too
    fanout_clients: tuple[int, ...]
    idle_window_s: float  # how long idle streams and pollers are watched
    idle_runs_at_once: bool  # every run on its own instances in one window, or one after another
    write_writers: tuple[int, ...]  # concurrent writers in the write-path scenario
    write_seconds: float  # per measurement
    events: int = 30  # status changes fanned out per fan-out measurement
    event_timeout_s: float = 10.0  # longest wait for one event to reach every client
    connect_batch: int = 250  # streams opened at once, well under uvicorn's backlog of 2048
    idle_clients: int = 50  # K idle streams, and the number of pollers of each interval
    poll_intervals_s: tuple[float, ...] = (1.0, 2.0)
    write_stream_clients: int = 100  # idle streams connected while writers write
    warmup_streams: int = 20  # opened and closed before memory is read
    storm_clients: tuple[int, ...] = (100, 1_000)  # pages re-fetching one table view at once
    storm_timeout_s: float = 30.0  # longest wait for every page of one storm
    tab_clicks: int = 20  # counted clicks per run in the browser scenario (click-to-other-tab)
    tab_warmup_clicks: int = 3  # made first in every run, not counted
    tab_click_timeout_s: float = 5.0  # longest wait for one click to show in the other tab
    # The reconnect storm: the server restarted under N streams while status changes go on.
    reconnect_clients: tuple[int, ...] = (1_000, 5_000)
    # One status change every 75 ms per 1,000 streams, all along (375 ms at 5,000): the same
    # event deliveries per second at every N, which one worker keeps up with (at 10,000 streams
    # one every 75 ms would take ~3.5 cores: see bench/README.md).
    reconnect_change_every_s: float = 0.075
    reconnect_live_s: float = 2.0  # changes reaching the streams before the restart
    reconnect_after_s: float = 3.0  # changes go on this long after the new server is ready
    reconnect_spread_s: float = 2.0  # a cut stream first waits a random delay within this
    reconnect_backoff_s: float = 0.25  # after a failed attempt; doubled in a row, up to...
    reconnect_backoff_max_s: float = 1.0
    reconnect_timeout_s: float = 30.0  # longest wait for every stream to catch up


QUICK = Mode(
    name="quick",
    runs=3,
    per_kind=30,
    fanout_clients=(1_000,),
    idle_window_s=20.0,
    idle_runs_at_once=True,
    write_writers=(1, 10),
    write_seconds=1.0,
)
FULL = Mode(
    name="full",
    runs=5,
    per_kind=200,
    fanout_clients=(1_000, 5_000, 10_000),
    idle_window_s=60.0,
    idle_runs_at_once=False,
    write_writers=(1, 10, 50),
    write_seconds=5.0,
    tab_clicks=50,
    reconnect_clients=(5_000, 10_000),
)
MODES = {mode.name: mode for mode in (QUICK, FULL)}
