"""Scenario 4: the refresh storm. N pages show the same table view; one status change makes
every one of them re-fetch the table fragment at once, as the live page does.

One app instance, for each N (100 and 1,000): N SSE streams, each paired in the load generator
with a keep-alive connection of its own. In every run one real status change is made; each
client, the moment its stream delivers the event, sends `GET /purchases/supply` with
`HX-Request`, `X-Event-Id` (the event) and `If-None-Match` (the ETag it holds), as the page
does. Then every client asks again for the same event with the ETag it now holds (a page
re-fetching with nothing new, as after a reconnect): 304s, no render."""

from __future__ import annotations

import asyncio
from typing import Any

from bench.config import Mode
from bench.harness import App, Harness, say
from bench.procstat import cpu_seconds
from bench.report import Table
from bench.scenarios import Outcome, scenario
from bench.scenarios.fanout import StatusChanges
from bench.stats import Spread

PATH = "/purchases/supply"  # with HX-Request: the table fragment
SETTLE_S = 0.2  # after the streams are open, before the first storm
PHASES = ("event", "again")
COUNTERS = ("renders", "hits", "not_modified")


async def storms(harness: Harness, app: App, change: StatusChanges, clients: int) -> list[Any]:
    """`mode.runs` storms of `clients` pages, each followed by its 304 round."""
    mode, loadgen, server = harness.mode, harness.loadgen, app.server
    opened = await loadgen.call(
        "sse_open",
        port=server.port,
        count=clients,
        batch=mode.connect_batch,
        headers=app.login.headers(),
    )
    if opened["failed"]:
        raise RuntimeError(f"{opened['failed']} of {clients} streams failed to open")
    await server.wait_streams(clients)
    await loadgen.call(
        "storm_prepare", port=server.port, path=PATH, headers=app.login.headers(), count=clients
    )
    await asyncio.sleep(SETTLE_S)
    runs = []
    try:
        for run in range(mode.runs):
            say(f"refresh storm: N={clients:,}, run {run + 1}/{mode.runs}")
            result: dict[str, Any] = {"clients": clients}
            for phase in PHASES:
                before = (await app.health())["fragments"]
                cpu = cpu_seconds(server.pid)
                await loadgen.call("arm")
                if phase == "event":
                    await loadgen.call("storm_arm")
                    await change()
                else:
                    await loadgen.call("storm_again")
                answer = await loadgen.call("storm_wait", timeout_s=mode.storm_timeout_s)
                cpu = cpu_seconds(server.pid) - cpu
                after = (await app.health())["fragments"]
                result[phase] = {
                    **answer,
                    "server_cpu_s": cpu,
                    **{name: after[name] - before[name] for name in COUNTERS},
                }
            runs.append(result)
    finally:
        await loadgen.call("storm_end")
        await loadgen.call("sse_close")
        await server.wait_streams(0)
    return runs


@scenario("refresh-storm", "Refresh storm: N pages on one table view re-fetch it after an event")
async def refresh_storm(harness: Harness) -> Outcome:
    mode = harness.mode
    (app,) = await harness.start_apps(1)
    per_n: dict[int, list[Any]] = {}
    try:
        change = StatusChanges(app, (await app.open_purchases(1))[0])
        for clients in mode.storm_clients:
            per_n[clients] = await storms(harness, app, change, clients)
            harness.partial["refresh-storm"] = Outcome({"per_n": per_n}, tables(mode, per_n))
    finally:
        harness.stop([app])
    return Outcome({"per_n": per_n}, tables(mode, per_n))


def tables(mode: Mode, per_n: dict[int, list[Any]]) -> list[Table]:
    table = Table(
        "Refresh storm: N pages on one table view re-fetch the fragment after one event",
        [
            "N",
            "round",
            "all have it (ms)",
            "p50 ms",
            "p99 ms",
            "server CPU s",
            "renders",
            "shared",
            "304s",
            "answered",
        ],
    )
    labels = {"event": "after the event", "again": "asked again (ETag)"}
    for clients, runs in per_n.items():
        for phase in PHASES:
            rows = [r[phase] for r in runs]

            def spread(figure: str, rows: list[Any] = rows) -> Spread:
                return Spread.of(r[figure] for r in rows)

            def latency(figure: str, rows: list[Any] = rows) -> Spread:
                return Spread.of(r["latency"][figure] for r in rows)

            answered = sum(r["fetched"] for r in rows)
            table.rows.append(
                [
                    f"{clients:,}",
                    labels[phase],
                    spread("all_within_s").text(scale=1000, digits=0),
                    latency("p50").text(scale=1000, digits=1),
                    latency("p99").text(scale=1000, digits=1),
                    spread("server_cpu_s").text(digits=2),
                    spread("renders").text(digits=0),
                    spread("hits").text(digits=0),
                    spread("not_modified").text(digits=0),
                    f"{answered:,}/{clients * len(rows):,}",
                ]
            )
    table.notes = [
        "After the event: from the change's `changed_at` (inside its transaction) until each "
        "page has the fragment, so the status change and the SSE delivery count too; "
        "'all have it' is the last page's time. Server CPU: the status change, its fan-out "
        "and the N re-fetches.",
        "Asked again: each page re-fetches the same view with the ETag it got (as after a "
        "reconnect with nothing new), timed from the moment they all ask.",
        "renders / shared / 304s: from GET /health `fragments` (a shared render is a request "
        "answered from a render made for another page of the same view). Answered: 200s and "
        "304s received / requests made.",
    ]
    return [table]
