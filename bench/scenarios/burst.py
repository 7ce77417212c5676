"""Scenario 8: a login burst. 100 failed logins at once from one address, while clerks' pages
stay open and a writer keeps changing statuses: how long `GET /health` takes and how late events
reach the open streams during the burst, side by side with the same load without it.

In every run the quiet window and the burst window are measured one after the other on the same
instance (the order alternates from run to run). The app trusts 127.0.0.1 as a proxy, so each
run's burst comes from an address of its own (X-Forwarded-For) and finds its limit untouched."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

from bench.harness import App, Harness, say
from bench.hostile import login_burst, probe_health
from bench.report import Table
from bench.scenarios import Outcome, scenario
from bench.stats import Spread, latency_summary, ratios

ATTEMPTS = 100
STREAMS = 100
WRITERS = 2
DRAIN_TIMEOUT_S = 10.0


async def window(harness: Harness, app: App, burst_from: str) -> dict[str, Any]:
    """Writers for `burst_write_seconds` with /health probed throughout; with `burst_from`, the
    burst starts with them. Every window lasts at least as long as its burst."""
    loadgen, mode = harness.loadgen, harness.mode
    purchases = await app.open_purchases(WRITERS)
    await loadgen.call("arm")
    done = asyncio.Event()
    probing = asyncio.create_task(probe_health(app.server.port, done))
    burst = asyncio.create_task(
        login_burst(app.server.port, ATTEMPTS, client=burst_from) if burst_from else _nothing()
    )
    wrote = await loadgen.call(
        "write",
        port=app.server.port,
        headers=app.login.post_headers(),
        writers=[purchases[i::WRITERS] for i in range(WRITERS)],
        duration_s=mode.write_seconds * 3,
    )
    statuses = await burst
    done.set()
    health = await probing
    await loadgen.call("wait", receipts=wrote["ok"] * STREAMS, timeout_s=DRAIN_TIMEOUT_S)
    delivered = await loadgen.call("collect")
    return {
        "statuses": {str(code): n for code, n in sorted(statuses.items())},
        "health_s": latency_summary(health),
        "event_latency_s": delivered["latency"],
        "events_delivered": delivered["receipts"],
        "events_expected": wrote["ok"] * STREAMS,
        "changes": wrote["ok"],
    }


async def _nothing() -> Counter[int]:
    return Counter()


@scenario("burst", "Login burst: /health and event delivery during 100 failed logins at once")
async def burst(harness: Harness) -> Outcome:
    mode, loadgen = harness.mode, harness.loadgen
    (app,) = await harness.start_apps(1, "sqlite", TRUSTED_PROXIES="127.0.0.1")
    runs: list[dict[str, dict[str, Any]]] = []
    try:
        await loadgen.call(
            "sse_open",
            port=app.server.port,
            count=STREAMS,
            batch=STREAMS,
            headers=app.login.headers(),
        )
        opened = await app.server.wait_streams(STREAMS)
        if opened != STREAMS:
            raise RuntimeError(f"{opened} of {STREAMS} streams opened")
        for run in range(mode.runs):
            say(f"login burst: run {run + 1}/{mode.runs}")
            order = ["quiet", "burst"] if run % 2 == 0 else ["burst", "quiet"]
            measured = {}
            for name in order:
                address = f"198.51.100.{run + 1}" if name == "burst" else ""
                measured[name] = await window(harness, app, address)
            runs.append(measured)
        await loadgen.call("sse_close")
    finally:
        harness.stop([app])
    return Outcome({"runs": runs}, [table(harness, runs)])


def table(harness: Harness, runs: list[dict[str, dict[str, Any]]]) -> Table:
    made = Table(
        f"Login burst: {ATTEMPTS} failed logins at once from one address, {STREAMS} open streams, "
        f"{WRITERS} writers changing statuses",
        [
            "window",
            "GET /health p99 ms",
            "event delivery p99 ms",
            "logins evaluated / refused",
            "events delivered/expected",
        ],
    )
    for name in ("quiet", "burst"):
        measured = [r[name] for r in runs]
        evaluated = [r["statuses"].get("401", 0) for r in measured]
        refused = [r["statuses"].get("429", 0) for r in measured]
        made.rows.append(
            [
                "without the burst" if name == "quiet" else "during the burst",
                Spread.of(r["health_s"]["p99"] for r in measured).text(scale=1000, digits=1),
                Spread.of(r["event_latency_s"]["p99"] for r in measured).text(scale=1000, digits=1),
                "-" if name == "quiet" else f"{sum(evaluated)} / {sum(refused)} in all",
                f"{sum(r['events_delivered'] for r in measured):,}/"
                f"{sum(r['events_expected'] for r in measured):,}",
            ]
        )
    for what, key in (("GET /health p99", "health_s"), ("event delivery p99", "event_latency_s")):
        spread = ratios(
            [r["burst"][key]["p99"] for r in runs], [r["quiet"][key]["p99"] for r in runs]
        )
        made.notes.append(
            f"{what}, during / without the burst, per run: {spread.text(digits=2, unit='x')}"
        )
    seconds = harness.mode.write_seconds * 3
    made.notes.append(
        f"Each run: one window with the burst and one without, {seconds:g} s of writes each; "
        "/health probed every 20 ms from the bench process; event delivery from each change's "
        "commit to its arrival on every stream (the load generator's clock)."
    )
    return made
