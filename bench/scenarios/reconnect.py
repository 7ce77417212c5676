"""The reconnect storm: the server restarted under N open streams while status changes go on.

One app instance (SQLite, one worker). For each N, the load generator opens N resuming streams
(`GET /events` with the session cookie): each remembers the id of the last event it received
and, when its connection is cut, comes back with `Last-Event-ID` after a random delay within
`reconnect_spread_s`, retrying a refused attempt after a short, growing pause (as EventSource
does with `retry:`). The streams stay open from run to run; in every run:

1. the bench makes a real status change every `reconnect_change_every_s` per 1,000 streams
   (`change_every_s`) through `POST /purchases/supply/<id>/status` (the route of `writes` and
   `fanout`), all along the run;
2. after `reconnect_live_s`, the server gets SIGTERM (it ends every open stream at once); once
   it has exited, `purchasing serve` starts again on the same port, with the same database and
   VAR_DIR (so the session stays valid); changes made while it is down fail to connect and are
   counted, not retried;
3. changes stop `reconnect_after_s` after the new server is ready (it accepts connections:
   uvicorn listens once the app has started); then every stream must have every event
   committed since the run began, each exactly once.

Measured, from ready: the time until every stream is open again, the time until every stream
is open again and has every event committed before the restart (caught up), the new server's
CPU from ready until then and its longest collector pause (`GET /health` `gc`), and the events
each stream never received or received twice."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections import Counter
from collections.abc import Awaitable, Callable
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.config import Mode
from bench.cycle import next_open_status
from bench.databases import Purchase, sqlite_url
from bench.harness import App, Harness, say
from bench.httpclient import HOST, Connection, Login
from bench.loadgen import clock
from bench.procstat import cpu_seconds
from bench.report import Table
from bench.scenarios import Outcome, scenario
from bench.servers import START_TIMEOUT_S, BenchServer
from bench.stats import Spread

NEWEST_SQL = "SELECT COALESCE(MAX(id), 0) FROM outbox_event"
POLL_S = 0.02  # how often the restarted server is asked whether it listens (answers) yet
CHANGE_TIMEOUT_S = 2.0  # one status change; longer is "no answer"
STOP_TIMEOUT_S = 10.0  # SIGTERM to exit; SIGKILL after


def listen_overflows() -> int | None:
    """Connections the kernel dropped because a listening socket's accept queue was full
    (`TcpExt: ListenOverflows`, for the whole machine; the client retries its SYN after 1 s,
    then 3 s, ...)."""
    try:
        lines = Path("/proc/net/netstat").read_text().splitlines()
    except OSError:
        return None
    for names, values in zip(lines[::2], lines[1::2], strict=False):
        if names.startswith("TcpExt:"):
            row = dict(zip(names.split(), values.split(), strict=False))
            return int(row["ListenOverflows"]) if "ListenOverflows" in row else None
    return None


def change_every_s(mode: Mode, clients: int) -> float:
    """The pace of the status changes: the same event deliveries per second at every N."""
    return mode.reconnect_change_every_s * max(clients / 1_000, 1.0)


def newest_event_id(database: Path) -> int:
    """The newest event committed, read from the outbox table itself."""
    with closing(sqlite3.connect(database, timeout=30)) as connection:
        (newest,) = connection.execute(NEWEST_SQL).fetchone()
    return int(newest)


@dataclass
class ChangeMaker:
    """Real status changes of one purchase at a steady pace, whether the server is up or not.
    A change that could not connect is counted as refused and not retried; one sent but not
    answered (cut, timed out) may or may not have committed: the outbox says, and the
    purchase's version is read again from the database before the next one."""

    port: int
    login: Login
    purchase: Purchase
    read_purchases: Callable[[], Awaitable[list[Purchase]]]
    every_s: float
    accepted: int = 0  # answered 200: each is an event every stream must receive
    refused: int = 0  # could not connect: the server was down
    unanswered: int = 0  # sent, no answer
    answered: Counter[int] = field(default_factory=Counter)  # any other status
    stale: bool = False

    async def run(self, stop: asyncio.Event) -> None:
        loop = asyncio.get_running_loop()
        connection = Connection(self.port, timeout_s=CHANGE_TIMEOUT_S)
        due = loop.time()
        try:
            while not stop.is_set():
                await self.change(connection)
                due = max(due + self.every_s, loop.time())
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), due - loop.time())
        finally:
            connection.close()

    async def change(self, connection: Connection) -> None:
        if self.stale:
            await self.read_again()
        purchase_id, status, version = self.purchase
        target = next_open_status(str(status))
        form = {"status": target, "version": str(version), "notes": ""}
        path = f"/purchases/supply/{purchase_id}/status"
        try:
            response = await connection.request("POST", path, self.login.post_headers(), form=form)
        except ConnectionRefusedError:
            self.refused += 1
            connection.close()
            return
        except (OSError, TimeoutError, asyncio.IncompleteReadError):
            self.unanswered += 1
            self.stale = True
            connection.close()
            return
        if response.status == 200:
            self.accepted += 1
            self.purchase[1], self.purchase[2] = target, int(version) + 1
        else:
            self.answered[response.status] += 1
            self.stale = True

    async def read_again(self) -> None:
        for purchase in await self.read_purchases():
            if purchase[0] == self.purchase[0]:
                self.purchase[:] = purchase
        self.stale = False

    def counts(self) -> dict[str, Any]:
        return {
            "accepted": self.accepted,
            "refused": self.refused,
            "unanswered": self.unanswered,
            "answered": {str(k): v for k, v in sorted(self.answered.items())},
        }


@dataclass
class Instance:
    """The app under test, restarted in place: same name, port, VAR_DIR and database."""

    app: App
    server: BenchServer
    var_dir: Path
    database: Path
    restarts: int = 0


async def wait_listening(server: BenchServer) -> tuple[float, float]:
    """Until the server accepts a connection (tried every `POLL_S`): uvicorn listens once the
    app has started. That moment on `clock()`, and the server's CPU seconds then."""
    deadline = clock() + START_TIMEOUT_S
    while clock() < deadline:
        if not server.alive():
            raise RuntimeError(f"{server.name} exited at start:\n{server.log_tail()}")
        try:
            async with asyncio.timeout(1):
                _, writer = await asyncio.open_connection(HOST, server.port)
        except (OSError, TimeoutError):
            await asyncio.sleep(POLL_S)
            continue
        ready = clock(), cpu_seconds(server.pid)
        writer.close()
        return ready
    raise RuntimeError(f"{server.name} did not listen within {START_TIMEOUT_S} s")


async def wait_health(server: BenchServer) -> float:
    """Until the server answers `GET /health` (asked every `POLL_S`, each within 10 s): that
    moment on `clock()`."""
    deadline = clock() + START_TIMEOUT_S
    while clock() < deadline:
        try:
            await server.get_json(timeout_s=10)
        except (OSError, TimeoutError, RuntimeError, asyncio.IncompleteReadError):
            await asyncio.sleep(POLL_S)
            continue
        return clock()
    raise RuntimeError(f"{server.name} did not answer GET /health in {START_TIMEOUT_S} s")


async def health_or_nothing(server: BenchServer) -> dict[str, Any]:
    """`GET /health`, or nothing from a server too busy to answer within 30 s."""
    try:
        return await server.get_json(timeout_s=30)
    except (OSError, TimeoutError, RuntimeError, asyncio.IncompleteReadError):
        return {}


async def restart(harness: Harness, instance: Instance) -> dict[str, Any]:
    """SIGTERM, wait for the exit, tell the streams which event they must catch up to (the
    newest committed), start the app again on the same port; returns when it listens
    ("ready") and answers GET /health."""
    old = instance.server
    overflows = listen_overflows()
    cut_at = clock()
    exit_code = await harness.processes.end(old, STOP_TIMEOUT_S)
    exited_at = clock()
    target = await asyncio.to_thread(newest_event_id, instance.database)
    await harness.loadgen.call("resume_target", target=target)
    instance.restarts += 1
    name = f"{instance.app.server.name}-restart-{instance.restarts}"
    database_url = sqlite_url(instance.database)
    instance.server = harness.processes.app_on(name, old.port, instance.var_dir, database_url)
    ready_at, cpu_at_ready = await wait_listening(instance.server)
    health_at = await wait_health(instance.server)
    return {
        "cut_at": cut_at,
        "exit_code": exit_code,
        "exit_s": exited_at - cut_at,
        "down_s": ready_at - cut_at,
        "health_s": health_at - ready_at,
        "overflows_before": overflows,
        "ready_at": ready_at,
        "cpu_at_ready": cpu_at_ready,
        "target": target,
    }


async def one_run(harness: Harness, instance: Instance, clients: int) -> dict[str, Any]:
    """One restart under `clients` open streams with changes going on (see the module)."""
    mode, loadgen = harness.mode, harness.loadgen
    base = await asyncio.to_thread(newest_event_id, instance.database)
    follow_s = mode.reconnect_live_s + mode.reconnect_after_s + 2 * mode.reconnect_timeout_s
    armed = await loadgen.call("resume_arm", base=base, follow_s=follow_s + START_TIMEOUT_S)
    if armed["live"] != clients:
        raise RuntimeError(f"{armed['live']} of {clients} streams open before the restart")
    purchase = (await instance.app.open_purchases(1))[0]
    maker = ChangeMaker(
        instance.server.port,
        instance.app.login,
        purchase,
        instance.app.read_purchases,
        change_every_s(mode, clients),
    )
    stop = asyncio.Event()
    making = asyncio.create_task(maker.run(stop))
    try:
        await asyncio.sleep(mode.reconnect_live_s)
        restarted = await restart(harness, instance)
        server = instance.server
        caught = await loadgen.call("resume_caught", timeout_s=mode.reconnect_timeout_s)
        cpu = cpu_seconds(server.pid) - restarted["cpu_at_ready"]
        overflows, before = listen_overflows(), restarted["overflows_before"]
        health = await health_or_nothing(server)
        await asyncio.sleep(max(restarted["ready_at"] + mode.reconnect_after_s - clock(), 0))
    finally:
        stop.set()
        await making
    last = await asyncio.to_thread(newest_event_id, instance.database)
    through = await loadgen.call("resume_through", last=last, timeout_s=mode.reconnect_timeout_s)
    collected = await loadgen.call("resume_collect", last=last, origin=restarted["ready_at"])
    streams = -1  # the server did not say (overloaded)
    with contextlib.suppress(OSError, TimeoutError, RuntimeError, asyncio.IncompleteReadError):
        streams = await server.wait_streams(clients, timeout_s=10)
    gc = health.get("gc") or {}
    return {
        **restarted,
        "clients": clients,
        "base": base,
        "last": last,
        "changes": maker.counts(),
        "caught_timed_out": caught["timed_out"],
        "through_timed_out": through["timed_out"],
        "server_cpu_s": cpu,
        # SYNs dropped by a full accept queue, from SIGTERM until all had caught up
        "listen_overflows": None if overflows is None or before is None else overflows - before,
        "gc_longest_ms": max(gc["longest_ms"]) if gc else None,
        "gc_full_collections": gc["collections"][2] if gc else None,
        "replayed": health.get("hub", {}).get("replayed"),
        "streams_after": streams,
        **collected,
    }


async def storms(harness: Harness, instance: Instance, clients: int) -> list[dict[str, Any]]:
    """`mode.runs` restarts under `clients` resuming streams, opened once for all of them."""
    mode, loadgen = harness.mode, harness.loadgen
    opened = await loadgen.call(
        "resume_open",
        port=instance.server.port,
        count=clients,
        batch=mode.connect_batch,
        headers=instance.app.login.headers(),
        spread_s=mode.reconnect_spread_s,
        backoff_s=mode.reconnect_backoff_s,
        backoff_max_s=mode.reconnect_backoff_max_s,
        timeout_s=60 + 0.02 * clients,
    )
    say(f"reconnect storm: {opened['opened']:,} streams open in {opened['seconds']:.1f} s")
    runs = []
    try:
        if await instance.server.wait_streams(clients) != clients:
            raise RuntimeError(f"the server does not count {clients} streams")
        for run in range(mode.runs):
            say(f"reconnect storm: N={clients:,}, run {run + 1}/{mode.runs}")
            runs.append(await one_run(harness, instance, clients))
    finally:
        await loadgen.call("resume_close")
        if instance.server.alive():
            await instance.server.wait_streams(0)
    return runs


@scenario("reconnect", "Reconnect storm: the server restarted under N streams, events flowing")
async def reconnect(harness: Harness) -> Outcome:
    mode = harness.mode
    (app,) = await harness.start_apps(1)
    var_dir = harness.workdir / app.server.name
    instance = Instance(app, app.server, var_dir, var_dir / "bench.sqlite3")
    if not instance.database.exists():
        raise RuntimeError(f"no database at {instance.database}")
    per_n: dict[int, list[dict[str, Any]]] = {}
    try:
        for clients in mode.reconnect_clients:
            per_n[clients] = await storms(harness, instance, clients)
            harness.partial["reconnect"] = Outcome({"per_n": per_n}, tables(mode, per_n))
    finally:
        harness.stop([instance.server])
    return Outcome({"per_n": per_n}, tables(mode, per_n))


def tables(mode: Mode, per_n: dict[int, list[dict[str, Any]]]) -> list[Table]:
    every_ms = mode.reconnect_change_every_s * 1000
    main = Table(
        f"Reconnect storm: the server restarted under N streams, a status change every "
        f"{every_ms:.0f} ms per 1,000 streams (s from the new server's ready)",
        [
            "N",
            "a change every",
            "all reconnected (s)",
            "all caught up (s)",
            "events lost",
            "events duplicated",
            "resyncs",
            "server CPU s",
            "longest GC pause ms",
        ],
    )
    timeline = Table(
        "Reconnect storm: the restart step by step",
        [
            "N",
            "old server exited (s)",
            "new server ready (s)",
            "GET /health answers",
            "first stream back",
            "half back",
            "half caught up",
            "reopened on the old server",
            "accept queue overflows",
            "events per run",
            "replayed per stream",
            "changes 200 / refused / no answer",
        ],
    )
    for clients, runs in per_n.items():

        def spread(key: str, sub: str = "", runs: list[Any] = runs) -> Spread:
            return Spread.of(r[key][sub] if sub else r[key] for r in runs)

        lost, duplicated = sum(r["lost"] for r in runs), sum(r["duplicated"] for r in runs)
        receipts = sum(r["receipts_expected"] for r in runs)
        main.rows.append(
            [
                f"{clients:,}",
                f"{change_every_s(mode, clients) * 1000:.0f} ms",
                spread("back_s", "max").text(digits=2) + _late(runs, "back", mode),
                spread("caught_s", "max").text(digits=2) + _late(runs, "caught", mode),
                f"{lost:,} of {receipts:,}",
                f"{duplicated:,}",
                f"{sum(r['resyncs'] for r in runs):,}",
                spread("server_cpu_s").text(digits=2),
                spread("gc_longest_ms").text(digits=1),
            ]
        )
        changes = [r["changes"] for r in runs]
        timeline.rows.append(
            [
                f"{clients:,}",
                spread("exit_s").text(digits=2),
                spread("down_s").text(digits=2),
                spread("health_s").text(digits=2),
                spread("back_s", "min").text(digits=2),
                spread("back_s", "p50").text(digits=2),
                spread("caught_s", "p50").text(digits=2),
                f"{sum(r['reopened_early'] for r in runs):,}",
                spread("listen_overflows").text(digits=0),
                Spread.of(r["last"] - r["base"] for r in runs).text(digits=0),
                Spread.of(r["replayed"] and r["replayed"] / clients for r in runs).text(digits=1),
                f"{sum(c['accepted'] for c in changes):,} / {sum(c['refused'] for c in changes):,}"
                f" / {sum(c['unanswered'] for c in changes):,}",
            ]
        )
    main.notes = [
        "Each run: N resuming streams (each sends `Last-Event-ID` = the last id it received "
        f"when it reconnects, first after a random delay within {mode.reconnect_spread_s:g} s "
        f"of the cut, then every {mode.reconnect_backoff_s:g} s doubling up to "
        f"{mode.reconnect_backoff_max_s:g} s while refused); real status changes all along; "
        "SIGTERM to the server (it ends every stream at once), then `purchasing serve` again "
        "on the same port, database and VAR_DIR. Times count from the moment the new server "
        "is ready: it accepts a TCP connection (tried every 20 ms; uvicorn listens once the "
        "app has started).",
        "All reconnected: the last stream's new response has started (200 and `retry:`). All "
        "caught up: the last stream is open again and has every event committed before the "
        "restart (the newest in the outbox once the old server had exited).",
        "Events lost: (stream, event) pairs never received, over every event committed from the "
        f"run's start until {mode.reconnect_after_s:g} s after ready, summed over the runs; "
        "duplicated: events a stream received more than once; resyncs: `resync` frames "
        "received (each would make a page re-fetch instead of replaying). All three must be 0.",
        "Server CPU: user+system seconds of the new server process from ready until every "
        "stream had caught up (the status changes made meanwhile included). Longest GC "
        "pause: the longest collection since the new server started (GET /health `gc`, read "
        "once all had caught up).",
    ]
    timeline.notes = [
        "Old server exited, new server ready: s after SIGTERM. GET /health answers, first "
        "stream back, half back, half caught up: s after ready (/health asked every 20 ms from "
        "then on, each within 10 s). Reopened on the old server: streams that reconnected to "
        "the old server after their cut, before it closed its socket (summed over the runs; "
        "each is cut again when it exits). Accept queue overflows: connection attempts the "
        "kernel dropped from SIGTERM until all had caught up, the listening socket's queue "
        "being full (/proc/net/netstat ListenOverflows, whole machine): each such client "
        "retries its SYN 1 s later, then 3 s. Replayed per stream: the new server's GET /health "
        "`hub` `replayed` (events sent from its replay buffer to resuming streams, read once "
        "all had caught up) / N.",
        "Changes: summed over the runs; refused ones could not connect (server down) and are "
        "not retried; no answer: sent but cut or timed out (the outbox says whether they "
        "committed; every event in it counts).",
    ]
    return [main, timeline]


def _late(runs: list[dict[str, Any]], key: str, mode: Mode) -> str:
    """A warning for runs in which not every stream was back (caught up) in time: their
    figure is then the last one that was."""
    late = sum(1 for r in runs if r[key] < r["clients"])
    return f" (not all within {mode.reconnect_timeout_s:g} s in {late} runs)" if late else ""
