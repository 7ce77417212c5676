"""Scenarios 3b and 5: what an idle client costs per hour, with our stream and with polling.

Side by side in every run, each on an app instance of its own (in full mode the runs follow one
another on one set of instances, roles rotating from run to run; in quick mode every run has a
set of its own and all are watched in the same window):
K idle SSE streams on one; K pollers every 1 s on another, K every 2 s on a third (the old
design: each poll re-fetches the table fragment, `GET /purchases/supply` with
`HX-Request: true`); a fourth instance has no client at all and shows the app's own background
work. All watched for the same window."""

from __future__ import annotations

import time
from typing import Any

from bench.config import Mode
from bench.harness import App, Harness, say
from bench.loadgen import sse_request
from bench.procstat import cpu_seconds
from bench.report import Table
from bench.scenarios import Outcome, scenario
from bench.servers import BenchServer
from bench.stats import Spread, ratios

POLL_PATH = "/purchases/supply"  # with HX-Request: the table fragment
HOUR_S = 3600


def _roles(intervals: tuple[float, ...]) -> list[str]:
    return ["sse", *(f"poll {interval:g} s" for interval in intervals), "no clients"]


async def windows(harness: Harness, sets: list[dict[str, App]]) -> list[dict[str, Any]]:
    """One watched window over every set of instances at once: one measurement per set."""
    mode, loadgen = harness.mode, harness.loadgen
    clients, window = mode.idle_clients, mode.idle_window_s
    connect_cpu, opened = [], []
    for apps in sets:
        sse = apps["sse"]
        before = cpu_seconds(sse.server.pid)
        answer = await loadgen.call(
            "sse_open",
            port=sse.server.port,
            count=clients,
            batch=mode.connect_batch,
            headers=sse.login.headers(),
        )
        await sse.server.wait_streams(int(answer["opened"]))
        connect_cpu.append(cpu_seconds(sse.server.pid) - before)
        opened.append(int(answer["opened"]))
    pollers = [
        {
            "port": apps[f"poll {interval:g} s"].server.port,
            "path": POLL_PATH,
            "headers": {**apps[f"poll {interval:g} s"].login.headers(), "hx-request": "true"},
            "clients": clients,
            "interval_s": interval,
        }
        for apps in sets
        for interval in mode.poll_intervals_s
    ]
    cpu_before = [{role: cpu_seconds(app.pid) for role, app in _servers(apps)} for apps in sets]
    began = time.monotonic()
    polled = await loadgen.call("poll", groups=pollers, duration_s=window)
    elapsed = time.monotonic() - began
    cpu = [
        {role: cpu_seconds(app.pid) - before[role] for role, app in _servers(apps)}
        for apps, before in zip(sets, cpu_before, strict=True)
    ]
    idle = [await loadgen.call("idle_bytes", port=apps["sse"].server.port) for apps in sets]
    await loadgen.call("sse_close")
    for apps in sets:
        await apps["sse"].server.wait_streams(0)
    per_set = len(mode.poll_intervals_s)
    polled_by_set = [
        polled["groups"][at : at + per_set] for at in range(0, len(polled["groups"]), per_set)
    ]
    return [
        _measurement(mode, *one, elapsed)
        for one in zip(sets, opened, connect_cpu, cpu, idle, polled_by_set, strict=True)
    ]


def _servers(apps: dict[str, App]) -> list[tuple[str, BenchServer]]:
    return [(role, app.server) for role, app in apps.items()]


def _measurement(
    mode: Mode,
    apps: dict[str, App],
    opened: int,
    connect_cpu: float,
    cpu: dict[str, float],
    idle: dict[str, Any],
    polled: list[dict[str, Any]],
    elapsed: float,
) -> dict[str, Any]:
    clients = mode.idle_clients
    sse = apps["sse"]
    per_hour = HOUR_S / elapsed
    request_bytes = len(sse_request("/events", sse.server.port, sse.login.headers()))
    rate = idle["bytes_per_second"]
    result: dict[str, Any] = {
        "window_s": elapsed,
        "sse": {
            "clients": opened,
            "requests_per_hour": 1,
            "initial_bytes": idle["initial_bytes"],
            "idle_bytes_per_second": rate,
            "heartbeats_seen": idle["heartbeats"],
            "rate_from": idle["rate_from"],
            "clients_with_heartbeat": idle["clients_with_heartbeat"],
            "bytes_down_per_hour": (
                idle["initial_bytes"] + rate * HOUR_S if rate is not None else None
            ),
            "bytes_up_per_hour": request_bytes,
            "connect_cpu_s": connect_cpu,
            "window_cpu_s": cpu["sse"],
            "cpu_s_per_hour": (connect_cpu + cpu["sse"] * per_hour) / clients,
        },
        "no_clients_cpu_s_per_hour": cpu["no clients"] * per_hour,
    }
    for interval, group in zip(mode.poll_intervals_s, polled, strict=True):
        role = f"poll {interval:g} s"
        result[role] = {
            "clients": clients,
            "requests": group["requests"],
            "errors": group["errors"],
            "latency_s": group["latency"],
            "requests_per_hour": group["requests"] * per_hour / clients,
            "bytes_down_per_hour": group["bytes_down"] * per_hour / clients,
            "bytes_up_per_hour": group["bytes_up"] * per_hour / clients,
            "window_cpu_s": cpu[role],
            "cpu_s_per_hour": cpu[role] * per_hour / clients,
        }
    return result


@scenario("idle", "Idle clients per hour: our SSE stream next to polling every 1 s and 2 s")
async def idle(harness: Harness) -> Outcome:
    mode = harness.mode
    roles = _roles(mode.poll_intervals_s)
    window = f"{mode.idle_window_s:.0f} s window"
    runs: list[dict[str, Any]] = []
    if mode.idle_runs_at_once:  # one set of instances per run, all watched in one window
        instances = await harness.start_apps(len(roles) * mode.runs)
        sets = [
            dict(zip(roles, instances[at : at + len(roles)], strict=True))
            for at in range(0, len(instances), len(roles))
        ]
        try:
            say(f"idle vs polling: {mode.runs} runs side by side, one {window}")
            runs = await windows(harness, sets)
        finally:
            harness.stop(instances)
    else:  # one set of instances, roles rotating from run to run
        instances = await harness.start_apps(len(roles))
        try:
            for run in range(mode.runs):
                say(f"idle vs polling: run {run + 1}/{mode.runs}, {window}")
                turn = run % len(instances)
                rotated = instances[turn:] + instances[:turn]
                runs += await windows(harness, [dict(zip(roles, rotated, strict=True))])
        finally:
            harness.stop(instances)
    return Outcome({"runs": runs, **summarise(runs, roles[:-1])}, tables(mode, runs, roles))


FIGURES = ("requests_per_hour", "bytes_down_per_hour", "bytes_up_per_hour", "cpu_s_per_hour")


def summarise(runs: list[dict[str, Any]], roles: list[str]) -> dict[str, Any]:
    summary = {
        role: {figure: Spread.of(r[role][figure] for r in runs).as_dict() for figure in FIGURES}
        for role in roles
    }
    compared = {
        role: {
            figure: ratios(
                [r[role][figure] for r in runs], [r["sse"][figure] for r in runs]
            ).as_dict()
            for figure in FIGURES
        }
        for role in roles
        if role != "sse"
    }
    return {"summary": summary, "polling_over_ours": compared}


def tables(mode: Mode, runs: list[dict[str, Any]], roles: list[str]) -> list[Table]:
    clients = mode.idle_clients
    cost = Table(
        f"Idle cost per client-hour: {clients} clients each, {mode.idle_window_s:.0f} s window",
        ["client", "requests/h", "KB down/h", "KB up/h", "server CPU s/h"],
    )
    labels = {"sse": "Purchasing Live SSE stream (idle)"}
    for role in roles[:-1]:
        spread = {figure: Spread.of(r[role][figure] for r in runs) for figure in FIGURES}
        cost.rows.append(
            [
                labels.get(role, f"polling every {role.removeprefix('poll ')}"),
                spread["requests_per_hour"].text(digits=0),
                spread["bytes_down_per_hour"].text(scale=1 / 1024, digits=1),
                spread["bytes_up_per_hour"].text(scale=1 / 1024, digits=1),
                spread["cpu_s_per_hour"].text(digits=2),
            ]
        )
    background = Spread.of(r["no_clients_cpu_s_per_hour"] for r in runs)
    initial = Spread.of(r["sse"]["initial_bytes"] for r in runs)
    rate = Spread.of(r["sse"]["idle_bytes_per_second"] for r in runs)
    how = {
        "steady": "between the first and the last heartbeat",
        "first interval": "from the initial response to the first heartbeat",
        "none": "no heartbeat seen",
    }
    estimators = sorted({how[r["sse"]["rate_from"]] for r in runs})
    cost.notes = [
        "SSE: 1 request per hour (reconnects aside); bytes/h = the initial response "
        f"({initial.text(digits=0)} B: headers and `retry:`) + idle bytes per second "
        f"({rate.text(digits=3)} B/s: heartbeats, SSE_HEARTBEAT_S at its default, with chunk "
        f"framing; rate {' / '.join(estimators)}) x 3600. Its CPU = the server "
        "CPU of opening the streams plus the window's CPU, per client.",
        "Polling: GET /purchases/supply with HX-Request (the fragment the old page "
        "re-fetched), one keep-alive connection per client; counted over the window.",
        "Server CPU includes the app's own background work (its timers): an app instance with "
        f"no clients at all used {background.text(digits=2)} CPU s/h in the same window.",
    ]
    compare = Table(
        "Polling / our SSE stream, per client-hour (same run, same window, same K)",
        ["client", "requests", "bytes down", "server CPU"],
    )
    for role in roles[1:-1]:
        row = [f"polling every {role.removeprefix('poll ')}"]
        for figure in ("requests_per_hour", "bytes_down_per_hour", "cpu_s_per_hour"):
            ratio = ratios([r[role][figure] for r in runs], [r["sse"][figure] for r in runs])
            row.append(ratio.text(digits=0 if figure == "requests_per_hour" else 1, unit="x"))
        compare.rows.append(row)
    return [cost, compare]
