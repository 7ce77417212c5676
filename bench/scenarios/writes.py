"""Scenario 6: status changes per second through the real route (transaction, history row,
outbox, fan-out), with idle streams connected, on SQLite and on PostgreSQL.

Both databases' app instances run at once, each with `write_stream_clients` idle streams; in
every run, for each writer count, SQLite and PostgreSQL are measured one after the other (the
order alternates from run to run) and compared as a per-run ratio. Each writer cycles its own
open supply purchases through draft -> pending -> confirmed -> in_transit -> draft, so writers
never touch the same purchase; a 409 (a lost race) or a 422 would be counted apart."""

from __future__ import annotations

import asyncio
from typing import Any

from bench.harness import App, Harness, say
from bench.procstat import cpu_seconds
from bench.report import Table
from bench.scenarios import Outcome, scenario
from bench.stats import Spread, ratios

DRAIN_TIMEOUT_S = 10.0
LABELS = {"sqlite": "SQLite", "postgres": "PostgreSQL"}


async def one_measure(harness: Harness, app: App, writers: int) -> dict[str, Any]:
    mode, loadgen = harness.mode, harness.loadgen
    purchases = await app.open_purchases(writers)
    shares = [purchases[i::writers] for i in range(writers)]
    await loadgen.call("arm")
    cpu_before = cpu_seconds(app.server.pid)
    wrote = await loadgen.call(
        "write",
        port=app.server.port,
        headers=app.login.post_headers(),
        writers=shares,
        duration_s=mode.write_seconds,
    )
    cpu = cpu_seconds(app.server.pid) - cpu_before
    expected = wrote["ok"] * mode.write_stream_clients
    await loadgen.call("wait", receipts=expected, timeout_s=DRAIN_TIMEOUT_S)
    delivered = await loadgen.call("collect")
    return {
        "writers": writers,
        "changes": wrote["ok"],
        "conflicts": wrote["conflicts"],
        "rejected": wrote["rejected"],
        "errors": wrote["errors"],
        "seconds": wrote["seconds"],
        "changes_per_s": wrote["ok"] / wrote["seconds"] if wrote["seconds"] else None,
        "request_latency_s": wrote["latency"],
        "server_cpu_s": cpu,
        "cpu_ms_per_change": cpu * 1000 / wrote["ok"] if wrote["ok"] else None,
        "events_delivered": delivered["receipts"],
        "events_expected": expected,
        "event_latency_s": delivered["latency"],
    }


@scenario("writes", "Write path: status changes per second on SQLite and PostgreSQL")
async def writes(harness: Harness) -> Outcome:
    mode, loadgen = harness.mode, harness.loadgen
    databases = ["sqlite"] + (["postgres"] if harness.postgres is not None else [])
    started = await asyncio.gather(*(harness.start_apps(1, db) for db in databases))
    apps = {db: group[0] for db, group in zip(databases, started, strict=True)}
    runs: dict[str, dict[int, list[dict[str, Any]]]] = {
        db: {w: [] for w in mode.write_writers} for db in databases
    }
    try:
        for app in apps.values():
            await loadgen.call(
                "sse_open",
                port=app.server.port,
                count=mode.write_stream_clients,
                batch=mode.connect_batch,
                headers=app.login.headers(),
            )
            await app.server.wait_streams(mode.write_stream_clients)
        for run in range(mode.runs):
            say(f"write path: run {run + 1}/{mode.runs}")
            for writers in mode.write_writers:
                order = databases if run % 2 == 0 else databases[::-1]
                for db in order:
                    runs[db][writers].append(await one_measure(harness, apps[db], writers))
        await loadgen.call("sse_close")
    finally:
        harness.stop(list(apps.values()))
    return Outcome(
        {
            "runs": {db: {str(w): r for w, r in by_w.items()} for db, by_w in runs.items()},
            "postgres": harness.postgres_skipped or "measured",
        },
        tables(harness, runs),
    )


def tables(harness: Harness, runs: dict[str, dict[int, list[dict[str, Any]]]]) -> list[Table]:
    mode = harness.mode
    table = Table(
        f"Write path: status changes per second ({mode.write_stream_clients} idle streams "
        f"connected, {mode.write_seconds:g} s per measurement)",
        [
            "database",
            "writers",
            "changes/s",
            "request p99 ms",
            "server CPU ms/change",
            "409s",
            "events delivered/expected",
        ],
    )
    for db, by_writers in runs.items():
        for writers, results in by_writers.items():
            conflicts = sum(r["conflicts"] for r in results)
            delivered = sum(r["events_delivered"] for r in results)
            expected = sum(r["events_expected"] for r in results)
            table.rows.append(
                [
                    LABELS[db],
                    str(writers),
                    Spread.of(r["changes_per_s"] for r in results).text(digits=0),
                    Spread.of(r["request_latency_s"]["p99"] for r in results).text(
                        scale=1000, digits=1
                    ),
                    Spread.of(r["cpu_ms_per_change"] for r in results).text(digits=1),
                    str(conflicts),
                    f"{delivered:,}/{expected:,}",
                ]
            )
    if "postgres" in runs:
        for writers in mode.write_writers:
            spread = ratios(
                [r["changes_per_s"] for r in runs["postgres"][writers]],
                [r["changes_per_s"] for r in runs["sqlite"][writers]],
            )
            table.notes.append(
                f"PostgreSQL / SQLite changes per second, {writers} writer(s), per run: "
                f"{spread.text(digits=2, unit='x')}"
            )
    else:
        table.notes.append(f"PostgreSQL rows skipped: {harness.postgres_skipped}.")
    table.notes.append(
        "Each change: POST /purchases/supply/<id>/status (HX-Request) on a keep-alive connection "
        "per writer; writers own disjoint purchases, so a 409 would be a lost race."
    )
    return [table]
