"""Scenarios 1-3a: fan-out latency at N streams, next to the floor and the peer; memory and
asyncio tasks per connection.

Each run starts fresh servers (our app, the floor, the peer), so memory per connection is
read on a process that never held N streams before. In each run, one server at a time (their
order rotates from run to run): open `warmup_streams` streams and close them; read RSS (and
our `/health` tasks); open N streams in batches; read RSS and tasks again; then make the
events one at a time, each once every client has the previous one (or after
`event_timeout_s`), and read the server's CPU time over the 30 events."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from bench.config import Mode
from bench.cycle import next_open_status
from bench.databases import Purchase
from bench.harness import App, Harness, say
from bench.httpclient import Connection
from bench.procstat import cpu_seconds, rss_kb
from bench.report import Table
from bench.scenarios import Outcome, scenario
from bench.servers import BenchServer
from bench.stats import Spread, ratios

SERVERS = ("ours", "floor", "peer")
LABELS = {
    "ours": "Purchasing Live",
    "floor": "floor (bare asyncio)",
    "peer": "peer (Litestar channels)",
}
GIVE_UP_AFTER_TIMEOUTS = 3  # consecutive events not delivered in time end the measurement
SETTLE_S = 0.1


@dataclass
class Target:
    name: str
    server: BenchServer
    stream_headers: dict[str, str]
    fire: Callable[[], Awaitable[None]]
    has_tasks: bool


class StatusChanges:
    """Our trigger: real status changes of one purchase through `POST .../status`."""

    def __init__(self, app: App, purchase: Purchase) -> None:
        self.app = app
        self.purchase = purchase
        self.connection = Connection(app.server.port)

    async def __call__(self) -> None:
        purchase_id, status, version = self.purchase
        target = next_open_status(str(status))
        form = {"status": target, "version": str(version), "notes": ""}
        path = f"/purchases/supply/{purchase_id}/status"
        response = await self.connection.request(
            "POST", path, self.app.login.post_headers(), form=form
        )
        if response.status != 200:
            raise RuntimeError(f"status change answered {response.status}")
        self.purchase[1], self.purchase[2] = target, int(version) + 1


class Post:
    """The floor's and the peer's trigger: one POST, answered once the event is on its way."""

    def __init__(self, server: BenchServer, path: str) -> None:
        self.path = path
        self.connection = Connection(server.port)

    async def __call__(self) -> None:
        response = await self.connection.request("POST", self.path, body=b"")
        if response.status != 200:
            raise RuntimeError(f"POST {self.path} answered {response.status}")


async def measure(harness: Harness, target: Target, clients: int) -> dict[str, Any]:
    """One server, one run: memory and tasks at `clients` idle streams, then the events."""
    mode, loadgen, server = harness.mode, harness.loadgen, target.server
    port, headers, batch = server.port, target.stream_headers, mode.connect_batch
    await loadgen.call(
        "sse_open", port=port, count=mode.warmup_streams, batch=batch, headers=headers
    )
    await loadgen.call("sse_close")
    await server.wait_streams(0)
    await asyncio.sleep(SETTLE_S)
    before = await server.get_json()
    rss_before = rss_kb(server.pid)
    opened = await loadgen.call("sse_open", port=port, count=clients, batch=batch, headers=headers)
    connected = int(opened["opened"])
    streams = await server.wait_streams(connected)
    await asyncio.sleep(SETTLE_S)
    after = await server.get_json()
    rss_after = rss_kb(server.pid)

    await loadgen.call("arm")
    gc_before = after.get("gc")
    cpu_before, loadgen_before = cpu_seconds(server.pid), cpu_seconds(loadgen.pid)
    fired = late = in_a_row = 0
    for _ in range(mode.events):
        await target.fire()
        fired += 1
        answer = await loadgen.call(
            "wait", receipts=connected * fired, timeout_s=mode.event_timeout_s
        )
        late += answer["timed_out"]
        in_a_row = in_a_row + 1 if answer["timed_out"] else 0
        if in_a_row >= GIVE_UP_AFTER_TIMEOUTS:
            break
    cpu = cpu_seconds(server.pid) - cpu_before
    loadgen_cpu = cpu_seconds(loadgen.pid) - loadgen_before
    gc_after = (await server.get_json()).get("gc") if gc_before else None
    collected = await loadgen.call("collect")
    await loadgen.call("sse_close")
    await server.wait_streams(0)
    return {
        "clients": clients,
        "connected": connected,
        "failed_connects": opened["failed"],
        "connect_s": opened["seconds"],
        "head_bytes_max": opened["head_bytes_max"],
        "streams_seen": streams,
        "events": fired,
        "late_events": late,
        "delivered": collected["receipts"],
        "expected": clients * mode.events,
        "resyncs": collected["resyncs"],
        "lost_connections": collected["lost_connections"],
        "latency_s": collected["latency"],
        "server_cpu_s": cpu,
        "loadgen_cpu_s": loadgen_cpu,
        "rss_before_kb": rss_before,
        "rss_after_kb": rss_after,
        "kb_per_connection": (rss_after - rss_before) / connected if connected else None,
        "tasks_before": before.get("tasks"),
        "tasks_after": after.get("tasks"),
        "tasks_per_connection": (
            (after["tasks"] - before["tasks"]) / connected
            if target.has_tasks and connected
            else None
        ),
        # Ours: full collections during the events and the longest pause since the server
        # started (GET /health `gc`); the floor and the peer do not report theirs.
        "gc_full_collections": gc_after["collections"][2] - gc_before["collections"][2]
        if gc_after and gc_before
        else None,
        "gc_longest_ms": max(gc_after["longest_ms"]) if gc_after else None,
    }


@dataclass
class ServerSet:
    app: App
    floor: BenchServer
    peer: BenchServer


async def start_set(harness: Harness) -> ServerSet:
    (app,), (floor, peer) = await asyncio.gather(
        harness.start_apps(1), harness.start_floor_and_peer()
    )
    return ServerSet(app, floor, peer)


async def one_run(harness: Harness, servers: ServerSet, clients: int, run: int) -> dict[str, Any]:
    """Our app, the floor and the peer measured one after the other, in an order that rotates
    from run to run; the servers are stopped afterwards."""
    app, floor, peer = servers.app, servers.floor, servers.peer
    try:
        purchase = (await app.open_purchases(1))[0]
        targets = [
            Target("ours", app.server, app.login.headers(), StatusChanges(app, purchase), True),
            Target("floor", floor, {}, Post(floor, "/trigger"), False),
            Target("peer", peer, {}, Post(peer, "/publish"), False),
        ]
        order = targets[run % 3 :] + targets[: run % 3]
        results = {}
        for target in order:
            results[target.name] = await measure(harness, target, clients)
        return results
    finally:
        harness.stop([app, floor, peer])


def _ms(spread: Spread) -> str:
    return spread.text(scale=1000, digits=1)


@scenario("fanout", "Fan-out latency next to the floor and the peer; memory per connection")
async def fanout(harness: Harness) -> Outcome:
    mode = harness.mode
    per_n: dict[int, dict[str, list[dict[str, Any]]]] = {}
    for clients in mode.fanout_clients:
        runs: dict[str, list[dict[str, Any]]] = {name: [] for name in SERVERS}
        # Fresh servers for every run, all started together (idle until their turn).
        sets = await asyncio.gather(*(start_set(harness) for _ in range(mode.runs)))
        try:
            for run, servers in enumerate(sets):
                say(f"fan-out: N={clients:,}, run {run + 1}/{mode.runs}")
                for name, result in (await one_run(harness, servers, clients, run)).items():
                    runs[name].append(result)
        finally:
            harness.stop([server for s in sets for server in (s.app, s.floor, s.peer)])
        per_n[clients] = runs
        harness.partial["fanout"] = build(mode, per_n)  # kept should the bench be interrupted
    return build(mode, per_n)


def build(mode: Mode, per_n: dict[int, dict[str, list[dict[str, Any]]]]) -> Outcome:
    """The data and the three tables, from every run of every N measured."""
    data: dict[str, Any] = {}
    latency = Table(
        f"Fan-out: {mode.events} status changes to N streams (latency in ms)",
        ["N", "server", "p50", "p99", "max", "delivered/expected", "server CPU s"],
    )
    compare = Table(
        "Fan-out side by side: ours / floor and ours / peer (same run, same N, same 30 events)",
        ["N", "p99 ours/floor", "p99 ours/peer", "CPU ours/floor", "CPU ours/peer"],
    )
    memory = Table(
        "Memory and tasks per connection (N idle streams, fresh server)",
        [
            "N",
            "server",
            "KB per connection",
            "asyncio tasks per connection",
            "connect N (s)",
            "response head B (max)",
        ],
    )
    for clients, runs in per_n.items():
        summary = {name: summarise(results) for name, results in runs.items()}
        for name in SERVERS:
            s, results = summary[name], runs[name]
            delivered = sum(r["delivered"] for r in results)
            expected = sum(r["expected"] for r in results)
            latency.rows.append(
                [
                    f"{clients:,}",
                    LABELS[name],
                    _ms(s["p50"]),
                    _ms(s["p99"]),
                    _ms(s["max"]),
                    f"{delivered:,}/{expected:,}",
                    s["cpu"].text(digits=2),
                ]
            )
            memory.rows.append(
                [
                    f"{clients:,}",
                    LABELS[name],
                    s["kb_per_connection"].text(digits=1),
                    s["tasks_per_connection"].text(digits=2) if name == "ours" else "-",
                    s["connect_s"].text(digits=2),
                    f"{max(r['head_bytes_max'] or 0 for r in results):,}",
                ]
            )
        pairs = {}
        for other in ("floor", "peer"):
            for figure, key in (("p99", "p99"), ("cpu", "server_cpu_s")):
                ours = [_figure(r, key) for r in runs["ours"]]
                theirs = [_figure(r, key) for r in runs[other]]
                pairs[f"{figure}_ours_over_{other}"] = ratios(ours, theirs)
        compare.rows.append(
            [
                f"{clients:,}",
                pairs["p99_ours_over_floor"].text(digits=2, unit="x"),
                pairs["p99_ours_over_peer"].text(digits=2, unit="x"),
                pairs["cpu_ours_over_floor"].text(digits=2, unit="x"),
                pairs["cpu_ours_over_peer"].text(digits=2, unit="x"),
            ]
        )
        data[str(clients)] = {
            "runs": runs,
            "summary": {
                name: {k: v.as_dict() for k, v in s.items()} for name, s in summary.items()
            },
            "ratios": {k: v.as_dict() for k, v in pairs.items()},
        }
    latency.notes = [
        "Latency: the client's receive time minus the `changed_at` in the event, for every event "
        "at every client. Ours: a real status change through POST /purchases/supply/<id>/status "
        "(transaction, outbox, hub); `changed_at` is taken inside the write transaction.",
        "Events go one at a time: the next change is made once every client has the previous "
        f"one (or after {mode.event_timeout_s:.0f} s). Server CPU: user+system seconds of the "
        f"server process over the {mode.events} events (10 ms resolution).",
    ]
    memory.notes = [
        "KB per connection: (VmRSS with N streams - VmRSS before) / N, after "
        f"{mode.warmup_streams} warm-up streams were opened and closed. Tasks: from our "
        "GET /health, (tasks with N streams - tasks before) / N.",
        "Response head: the largest number of bytes any stream received up to and including "
        "its first body chunk (status line, headers, `retry:`); it should not grow with N.",
    ]
    for clients, runs in per_n.items():
        full = Spread.of(r.get("gc_full_collections") for r in runs["ours"])
        longest = Spread.of(r.get("gc_longest_ms") for r in runs["ours"])
        latency.notes.append(
            f"N = {clients:,}, ours: {full.text(digits=0)} full garbage collections during the "
            f"events; the longest collector pause since the server started (connecting "
            f"included): {longest.text(digits=1)} ms (GET /health `gc`)."
        )
    compare.notes = ["Ratios above 1 mean ours is slower or costs more than the other."]
    return Outcome(data, [latency, compare, memory])


def _figure(result: dict[str, Any], key: str) -> float | None:
    if key in result["latency_s"]:
        value = result["latency_s"][key]
        return float(value) if value is not None else None
    return float(result[key]) if result[key] is not None else None


def summarise(results: list[dict[str, Any]]) -> dict[str, Spread]:
    return {
        "p50": Spread.of(r["latency_s"]["p50"] for r in results),
        "p99": Spread.of(r["latency_s"]["p99"] for r in results),
        "max": Spread.of(r["latency_s"]["max"] for r in results),
        "cpu": Spread.of(r["server_cpu_s"] for r in results),
        "loadgen_cpu": Spread.of(r["loadgen_cpu_s"] for r in results),
        "kb_per_connection": Spread.of(r["kb_per_connection"] for r in results),
        "tasks_per_connection": Spread.of(r["tasks_per_connection"] for r in results),
        "connect_s": Spread.of(r["connect_s"] for r in results),
    }
