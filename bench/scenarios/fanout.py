"""Scenarios 1-3a: fan-out latency at N streams, next to the floor and two peers (Litestar
channels, sse-starlette); memory and asyncio tasks per connection.

Each run starts fresh servers (our app, the floor, the two peers), so memory per connection is
read on a process that never held N streams before. In each run, one server at a time (their
order rotates from run to run): open `warmup_streams` streams and close them; read RSS (and
our `/health` tasks); open N streams in batches; read RSS and tasks again; then make the
events one at a time, each once every client has the previous one (or after
`event_timeout_s`), and read the server's CPU time over the 30 events.

Latency is taken twice for every event at every client: from the `changed_at` the server wrote
in the event, and from the moment the bench sent the POST that made it (the user's clock)."""

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
from bench.loadgen import clock
from bench.procstat import cpu_seconds, rss_kb
from bench.report import Table
from bench.scenarios import Outcome, scenario
from bench.servers import BenchServer
from bench.stats import Spread, ratios

SERVERS = ("ours", "floor", "peer", "peer_starlette")
OTHERS = SERVERS[1:]
LABELS = {
    "ours": "Purchasing Live",
    "floor": "floor (bare asyncio)",
    "peer": "peer (Litestar channels)",
    "peer_starlette": "peer (sse-starlette)",
}
SHORT = {"floor": "floor", "peer": "Litestar", "peer_starlette": "sse-starlette"}
FROM_POST = "from_post_"  # a latency figure taken from the POST sent, not `changed_at`
GIVE_UP_AFTER_TIMEOUTS = 3  # consecutive events not delivered in time end the measurement
SETTLE_S = 0.1


@dataclass
class Target:
    name: str
    server: BenchServer
    stream_headers: dict[str, str]
    fire: Callable[[], Awaitable[float]]  # makes one event; returns when its POST was sent
    has_tasks: bool


class StatusChanges:
    """Our trigger: real status changes of one purchase through `POST .../status`."""

    def __init__(self, app: App, purchase: Purchase) -> None:
        self.app = app
        self.purchase = purchase
        self.connection = Connection(app.server.port)

    async def __call__(self) -> float:
        """One change; returns when its POST was sent (on the load generator's clock)."""
        purchase_id, status, version = self.purchase
        target = next_open_status(str(status))
        form = {"status": target, "version": str(version), "notes": ""}
        path = f"/purchases/supply/{purchase_id}/status"
        await self.connection.open()  # the send time counts no TCP handshake
        sent = clock()
        response = await self.connection.request(
            "POST", path, self.app.login.post_headers(), form=form
        )
        if response.status != 200:
            raise RuntimeError(f"status change answered {response.status}")
        self.purchase[1], self.purchase[2] = target, int(version) + 1
        return sent


class Post:
    """The floor's and the peers' trigger: one POST, answered once the event is on its way."""

    def __init__(self, server: BenchServer, path: str) -> None:
        self.path = path
        self.connection = Connection(server.port)

    async def __call__(self) -> float:
        """One event; returns when its POST was sent (on the load generator's clock)."""
        await self.connection.open()  # the send time counts no TCP handshake
        sent = clock()
        response = await self.connection.request("POST", self.path, body=b"")
        if response.status != 200:
            raise RuntimeError(f"POST {self.path} answered {response.status}")
        return sent


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
    sent_at: list[float] = []
    for _ in range(mode.events):
        sent_at.append(await target.fire())
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
    collected = await loadgen.call("collect", sent_at=sent_at)
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
        # From the POST sent; None when events and POSTs could not be matched one for one.
        "latency_from_post_s": collected["latency_from_sent"],
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
        # started (GET /health `gc`); the floor and the peers do not report theirs.
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
    peer_starlette: BenchServer

    def all(self) -> list[App | BenchServer]:
        return [self.app, self.floor, self.peer, self.peer_starlette]


async def start_set(harness: Harness) -> ServerSet:
    (app,), (floor, peer, peer_starlette) = await asyncio.gather(
        harness.start_apps(1), harness.start_floor_and_peers()
    )
    return ServerSet(app, floor, peer, peer_starlette)


async def one_run(harness: Harness, servers: ServerSet, clients: int, run: int) -> dict[str, Any]:
    """Our app, the floor and the two peers measured one after the other, in an order that
    rotates from run to run; the servers are stopped afterwards."""
    app, floor = servers.app, servers.floor
    peer, peer_starlette = servers.peer, servers.peer_starlette
    try:
        purchase = (await app.open_purchases(1))[0]
        targets = [
            Target("ours", app.server, app.login.headers(), StatusChanges(app, purchase), True),
            Target("floor", floor, {}, Post(floor, "/trigger"), False),
            Target("peer", peer, {}, Post(peer, "/publish"), False),
            Target("peer_starlette", peer_starlette, {}, Post(peer_starlette, "/publish"), False),
        ]
        turn = run % len(targets)
        order = targets[turn:] + targets[:turn]
        results = {}
        for target in order:
            results[target.name] = await measure(harness, target, clients)
        return results
    finally:
        harness.stop(servers.all())


def _ms(spread: Spread) -> str:
    return spread.text(scale=1000, digits=1)


@scenario("fanout", "Fan-out latency next to the floor and two peers; memory per connection")
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
            harness.stop([server for s in sets for server in s.all()])
        per_n[clients] = runs
        harness.partial["fanout"] = build(mode, per_n)  # kept should the bench be interrupted
    return build(mode, per_n)


def build(mode: Mode, per_n: dict[int, dict[str, list[dict[str, Any]]]]) -> Outcome:
    """The data and the four tables, from every run of every N measured."""
    data: dict[str, Any] = {}
    latency = Table(
        f"Fan-out: {mode.events} status changes to N streams (latency in ms)",
        ["N", "server", "p50", "p99", "max", "delivered/expected", "server CPU s"],
    )
    from_post = Table(
        "Fan-out from the POST sent: the same events, timed from the moment the bench sent the "
        "POST that made each one (latency in ms)",
        ["N", "server", "p50", "p99", "max", "runs timed"],
    )
    compare = Table(
        f"Fan-out side by side: ours / floor and ours / each peer (same run, same N, same "
        f"{mode.events} events)",
        [
            "N",
            *(f"p99 ours/{SHORT[other]}" for other in OTHERS),
            "p99 from the POST ours/floor",
            *(f"CPU ours/{SHORT[other]}" for other in OTHERS),
        ],
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
            from_post.rows.append(
                [
                    f"{clients:,}",
                    LABELS[name],
                    _ms(s["from_post_p50"]),
                    _ms(s["from_post_p99"]),
                    _ms(s["from_post_max"]),
                    f"{s['from_post_p99'].runs}/{len(results)}",
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
        for other in OTHERS:
            for figure in ("p99", "from_post_p99", "server_cpu_s"):
                ours = [_figure(r, figure) for r in runs["ours"]]
                theirs = [_figure(r, figure) for r in runs[other]]
                short = "cpu" if figure == "server_cpu_s" else figure
                pairs[f"{short}_ours_over_{other}"] = ratios(ours, theirs)
        compare.rows.append(
            [
                f"{clients:,}",
                *(pairs[f"p99_ours_over_{other}"].text(digits=2, unit="x") for other in OTHERS),
                pairs["from_post_p99_ours_over_floor"].text(digits=2, unit="x"),
                *(pairs[f"cpu_ours_over_{other}"].text(digits=2, unit="x") for other in OTHERS),
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
    from_post.notes = [
        "From the POST sent: the client's receive time minus the moment the bench process sent "
        "the POST that made the event (taken just before writing it on an open keep-alive "
        "connection), for every event at every client; both are `time.time()` of this machine. "
        "Ours: the status-change POST, so its request handling before the transaction counts "
        "too; the floor and the peers: their POST /trigger or /publish.",
        "Events are matched with POSTs in the order of their ids; a run where an event reached "
        "no client cannot be matched and is left out (runs timed).",
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
    compare.notes = [
        "Ratios above 1 mean ours is slower or costs more than the other.",
        "p99 from the POST: the same ratio on the latency from the POST sent (second table).",
    ]
    return Outcome(data, [latency, from_post, compare, memory])


def _latency(result: dict[str, Any], key: str) -> float | None:
    """`p50`, `p99` or `max` of one run's latency from `changed_at`; prefixed `from_post_`,
    from the POST sent (None when that run's events could not be matched with its POSTs)."""
    if key.startswith(FROM_POST):
        summary = result.get("latency_from_post_s") or {}
        value = summary.get(key.removeprefix(FROM_POST))
    else:
        value = result["latency_s"][key]
    return float(value) if value is not None else None


def _figure(result: dict[str, Any], key: str) -> float | None:
    if key.startswith(FROM_POST) or key in result["latency_s"]:
        return _latency(result, key)
    return float(result[key]) if result[key] is not None else None


def summarise(results: list[dict[str, Any]]) -> dict[str, Spread]:
    latencies = {
        key: Spread.of(_latency(r, key) for r in results)
        for prefix in ("", FROM_POST)
        for key in (f"{prefix}p50", f"{prefix}p99", f"{prefix}max")
    }
    return {
        **latencies,
        "cpu": Spread.of(r["server_cpu_s"] for r in results),
        "loadgen_cpu": Spread.of(r["loadgen_cpu_s"] for r in results),
        "kb_per_connection": Spread.of(r["kb_per_connection"] for r in results),
        "tasks_per_connection": Spread.of(r["tasks_per_connection"] for r in results),
        "connect_s": Spread.of(r["connect_s"] for r in results),
    }
