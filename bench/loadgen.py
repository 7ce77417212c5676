"""The load generator: a process of its own holding SSE clients, pollers and writers.

The orchestrator (bench.run) starts it once and sends it one JSON command per line on stdin; it
answers each with one JSON line on stdout. It only ever connects to 127.0.0.1, and every wait
has a timeout.

SSE clients are plain asyncio protocols speaking just enough HTTP/1.1: no parser objects, no
per-connection tasks. For each event only the first client to receive it decodes the JSON
(for `changed_at`); every client notes (event id, receive time) by scanning its bytes for
`\\nid: N` lines, so the generator stays light next to the servers it measures."""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import os
import random
import sys
import time
from collections import Counter
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from bench.aio import run
from bench.cycle import next_open_status
from bench.httpclient import HOST, Connection
from bench.procstat import raise_open_files_limit
from bench.stats import latency_summary

ID_LINE = b"\nid: "
DATA_LINE = b"\ndata: "
RESYNC_LINE = b"\nevent: resync"
HEARTBEAT = b": ping\n"
HEADER_END = b"\r\n\r\n"
# Keep this much of a read for the next one, so an `\nid: ` split across reads is still found.
KEEP = len(ID_LINE) - 1


def clock() -> float:
    """Wall-clock seconds: comparable with `changed_at`, written by a server on this machine."""
    return time.time()


@dataclass
class Receipts:
    """What every client received since the last `arm`: event id -> receive times."""

    changed_at: dict[int, float] = field(default_factory=dict)
    times: dict[int, list[float]] = field(default_factory=dict)
    count: int = 0
    resyncs: int = 0
    target: int = 0
    reached: asyncio.Event = field(default_factory=asyncio.Event)

    def note(self, event_id: int, at: float) -> None:
        self.times.setdefault(event_id, []).append(at)
        self.count += 1
        if self.count >= self.target:
            self.reached.set()

    def latencies(self) -> list[float]:
        found: list[float] = []
        for event_id, times in self.times.items():
            sent = self.changed_at.get(event_id)
            if sent is not None and not math.isnan(sent):
                found.extend(at - sent for at in times)
        return found

    def latencies_from(self, sent: list[float]) -> list[float] | None:
        """Receive time minus the time each event's POST was sent (`sent`, in the order sent):
        the events, in the order of their ids (every server numbers them upward), matched one
        for one with the POSTs. None when the counts differ (an event no client received):
        the match would then be a guess."""
        if len(self.times) != len(sent):
            return None
        found: list[float] = []
        for event_id, at in zip(sorted(self.times), sent, strict=True):
            found.extend(received - at for received in self.times[event_id])
        return found


class SseClient(asyncio.Protocol):
    """One `GET /events` stream: counts bytes and heartbeats, notes every event's arrival."""

    __slots__ = (
        "bytes",
        "closed",
        "failed",
        "first_heartbeat_at",
        "first_heartbeat_bytes",
        "group",
        "heartbeat_at",
        "heartbeats",
        "in_body",
        "port",
        "ready",
        "ready_at",
        "ready_bytes",
        "request",
        "tail",
        "transport",
    )

    def __init__(self, request: bytes, group: SseGroup, port: int) -> None:
        self.request = request
        self.group = group
        self.port = port
        self.transport: asyncio.Transport | None = None
        self.ready: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self.tail = b""
        self.bytes = 0
        self.in_body = False  # the response headers are behind us
        self.ready_at = 0.0
        self.ready_bytes = 0
        self.heartbeats = 0
        self.heartbeat_at = self.first_heartbeat_at = 0.0
        self.first_heartbeat_bytes = 0
        self.failed = False
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        self.transport.write(self.request)
        self.group.connected += 1

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.group.lost += 1
        self.group.connected -= 1
        if self.group.connected == 0:
            self.group.drained.set()
        if not self.ready.done():
            self.ready.set_result(False)

    def data_received(self, data: bytes) -> None:
        now = clock()
        self.bytes += len(data)
        buffer = self.tail + data if self.tail else data
        if not self.in_body:
            end = buffer.find(HEADER_END)
            if end < 0:
                self.tail = buffer
                return
            if not buffer.startswith(b"HTTP/1.1 200"):
                self._fail()
                return
            self.in_body = True
            buffer = buffer[end + 2 :]  # keep one CRLF so the first line starts after a newline
        if not self.ready.done() and len(buffer) > 2:  # the first body chunk (`retry:`)
            self.ready_at, self.ready_bytes = now, self.bytes
            self.ready.set_result(True)
        if HEARTBEAT in data:
            if not self.heartbeats:
                self.first_heartbeat_at, self.first_heartbeat_bytes = now, self.bytes
            self.heartbeats += data.count(HEARTBEAT)
            self.heartbeat_at = now
        self.tail = self._scan(buffer, now)

    def _scan(self, buffer: bytes, now: float) -> bytes:
        """Note each event whose `id:` line is complete (LF or CRLF lines); the first client to
        see an event also reads its `data:` line. Returns what must wait for the next read."""
        receipts = self.group.receipts
        position = 0
        while True:
            start = buffer.find(ID_LINE, position)
            if start < 0:
                return buffer[max(position, len(buffer) - KEEP) :]
            line_end = buffer.find(b"\n", start + len(ID_LINE))
            if line_end < 0:
                return buffer[start:]
            position = line_end
            event_id = _number(buffer[start + len(ID_LINE) : line_end])
            if event_id is None:
                continue
            if buffer.startswith(RESYNC_LINE, line_end):
                receipts.resyncs += 1
                continue
            if event_id not in receipts.changed_at:
                changed_at = _changed_at(buffer, line_end)
                if changed_at is None:
                    return buffer[start:]
                receipts.changed_at[event_id] = changed_at
            receipts.note(event_id, now)
            if self.group.storm is not None:
                self.group.storm.refetch(self, event_id)

    def _fail(self) -> None:
        self.failed = True
        if self.transport is not None:
            self.transport.close()
        if not self.ready.done():
            self.ready.set_result(False)


def _itself(client: SseClient) -> Callable[[], SseClient]:
    """The protocol factory handing `create_connection` this very client."""
    return lambda: client


def _number(text: bytes) -> int | None:
    try:
        return int(text)  # int() ignores the CR of a CRLF line
    except ValueError:
        return None


def _changed_at(buffer: bytes, start: int) -> float | None:
    """The `changed_at` of the JSON `data:` line after `start`, as epoch seconds; None while
    that line is not complete."""
    data_start = buffer.find(DATA_LINE, start)
    line_end = buffer.find(b"\n", data_start + len(DATA_LINE)) if data_start >= 0 else -1
    if line_end < 0:
        return None
    try:
        payload = json.loads(buffer[data_start + len(DATA_LINE) : line_end])
        return datetime.fromisoformat(payload["changed_at"]).timestamp()
    except (ValueError, KeyError, TypeError):
        return math.nan  # an event without a readable `changed_at`: delivered, not timed


@dataclass
class SseGroup:
    """Every open SSE client, sharing one receipt book."""

    clients: list[SseClient] = field(default_factory=list)
    receipts: Receipts = field(default_factory=Receipts)
    lost: int = 0  # connections ended, by either side
    connected: int = 0
    drained: asyncio.Event = field(default_factory=asyncio.Event)  # set when none is connected
    storm: Storm | None = None  # when set, every event makes each client re-fetch a fragment

    def live(self) -> list[SseClient]:
        return [c for c in self.clients if not c.closed and not c.failed]


@dataclass
class Fetch:
    """One client's re-fetch of the fragment after an event."""

    status: int = 0
    wire_bytes: int = 0
    done_at: float = 0.0
    error: str = ""


class Storm:
    """Each SSE client paired with a keep-alive connection of its own: on an event the client
    re-fetches `path` as the page does (`HX-Request`, `X-Event-Id` of the event, and
    `If-None-Match` with the ETag it last got)."""

    def __init__(self, path: str, headers: dict[str, str], pairs: dict[SseClient, Connection]):
        self.path = path
        self.headers = headers
        self.pairs = pairs
        self.etags: dict[SseClient, str] = {}
        self.seen: dict[SseClient, int] = {}  # the event each client last re-fetched for
        self.fetches: dict[SseClient, Fetch] = {}
        self.tasks: set[asyncio.Task[None]] = set()
        self.all_done = asyncio.Event()
        self.armed = False
        self.started = 0.0

    def arm(self) -> None:
        self.fetches, self.all_done, self.armed, self.started = {}, asyncio.Event(), True, 0.0

    def refetch(self, client: SseClient, event_id: int) -> None:
        if not self.armed or client not in self.pairs or client in self.fetches:
            return  # one re-fetch per client per storm, as htmx coalesces a burst
        self.seen[client] = event_id
        self.fetches[client] = Fetch()
        task = asyncio.get_running_loop().create_task(self.fetch(client, event_id))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def fetch(self, client: SseClient, event_id: int) -> None:
        fetch = self.fetches[client]
        headers = {**self.headers, "hx-request": "true", "x-event-id": str(event_id)}
        if client in self.etags:
            headers["if-none-match"] = self.etags[client]
        try:
            response = await self.pairs[client].request("GET", self.path, headers)
        except (OSError, TimeoutError, asyncio.IncompleteReadError) as error:
            fetch.error = type(error).__name__
        else:
            fetch.status, fetch.wire_bytes = response.status, response.wire_bytes
            self.etags[client] = response.header("etag") or ""
        fetch.done_at = clock()
        if len(self.fetches) == len(self.pairs) and all(f.done_at for f in self.fetches.values()):
            self.all_done.set()

    def summary(self, changed_at: float) -> dict[str, Any]:
        done = [f for f in self.fetches.values() if f.done_at and not f.error]
        statuses: dict[str, int] = {}
        for fetch in done:
            statuses[str(fetch.status)] = statuses.get(str(fetch.status), 0) + 1
        return {
            "clients": len(self.pairs),
            "fetched": sum(1 for f in done if f.status in (200, 304)),  # the table, or unchanged
            "errors": sum(1 for f in self.fetches.values() if f.error),
            "statuses": statuses,
            "bytes": sum(f.wire_bytes for f in done),
            "latency": latency_summary([f.done_at - changed_at for f in done]),
            "all_within_s": max((f.done_at for f in done), default=changed_at) - changed_at,
        }


def sse_request(path: str, port: int, headers: dict[str, str]) -> bytes:
    lines = [f"GET {path} HTTP/1.1", f"host: {HOST}:{port}", "accept: text/event-stream"]
    lines += [f"{key}: {value}" for key, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


class LoadGenerator:
    def __init__(self) -> None:
        self.sse = SseGroup()

    async def sse_open(
        self, port: int, count: int, batch: int, path: str = "/events", **options: Any
    ) -> dict[str, Any]:
        """Open `count` streams in batches, each batch answered before the next is sent, so the
        server's accept backlog never holds more than one batch. Gives up at the first batch
        with a failure, or at `timeout_s` (default 60 s + 20 ms per stream); streams not
        answered by then are closed and counted as failed."""
        request = sse_request(path, port, options.get("headers", {}))
        timeout_s = float(options.get("timeout_s", 60 + 0.02 * count))
        loop = asyncio.get_running_loop()
        started = time.monotonic()
        deadline = started + timeout_s
        opened = failed = 0
        heads: list[int] = []  # bytes of each response up to its first body chunk
        for first in range(0, count, batch):
            clients = [SseClient(request, self.sse, port) for _ in range(min(batch, count - first))]
            self.sse.clients.extend(clients)
            connects = [loop.create_connection(_itself(c), HOST, port) for c in clients]
            await asyncio.gather(*connects, return_exceptions=True)
            waiting = [c.ready for c in clients if not c.ready.done()]
            if waiting:
                await asyncio.wait(waiting, timeout=max(deadline - time.monotonic(), 0))
            for client in clients:
                if client.ready.done() and not client.ready.cancelled() and client.ready.result():
                    opened += 1
                    heads.append(client.ready_bytes)
                else:
                    failed += 1
                    client.ready.cancel()
                    if client.transport is not None:
                        client.transport.close()
            if failed:
                break
        return {
            "opened": opened,
            "failed": failed,
            "seconds": time.monotonic() - started,
            "head_bytes_max": max(heads, default=None),
            "head_bytes_min": min(heads, default=None),
        }

    async def arm(self, target: int = 0) -> dict[str, Any]:
        """Forget earlier receipts; `wait` will then count from zero."""
        self.sse.receipts = Receipts(target=target or 1 << 62)
        self.sse.lost = 0
        return {}

    async def wait(self, receipts: int, timeout_s: float) -> dict[str, Any]:
        """Until `receipts` event arrivals have been noted since `arm`, or the timeout."""
        book = self.sse.receipts
        book.target = receipts
        if book.count < receipts:
            book.reached.clear()
            try:
                await asyncio.wait_for(book.reached.wait(), timeout_s)
            except TimeoutError:
                return {"receipts": book.count, "timed_out": True}
        return {"receipts": book.count, "timed_out": False}

    async def collect(self, sent_at: list[float] | None = None) -> dict[str, Any]:
        """Latency (receive time minus `changed_at`) over every receipt since `arm`; given
        `sent_at` (when each event's POST was sent, in order, on `clock()`), also the latency
        from those times (None when events and POSTs cannot be matched one for one)."""
        book = self.sse.receipts
        answer: dict[str, Any] = {
            "receipts": book.count,
            "events": len(book.times),
            "resyncs": book.resyncs,
            "lost_connections": self.sse.lost,
            "latency": latency_summary(book.latencies()),
        }
        if sent_at is not None:
            from_sent = book.latencies_from(sent_at)
            answer["latency_from_sent"] = None if from_sent is None else latency_summary(from_sent)
        return answer

    async def idle_bytes(self, port: int | None = None) -> dict[str, Any]:
        """Per stream (of the server on `port`, or of every server): the bytes of the initial
        response (headers and `retry:`), and the idle bytes per second after it. With two
        heartbeats or more that rate is taken between the first and the last (the steady rate);
        with one, from the initial response to it (the first interval, which may be longer than
        the next ones)."""
        clients = [c for c in self.sse.live() if port is None or c.port == port]
        initial = [c.ready_bytes for c in clients if c.ready_at]
        steady = [
            (c.bytes - c.first_heartbeat_bytes) / (c.heartbeat_at - c.first_heartbeat_at)
            for c in clients
            if c.heartbeats >= 2 and c.heartbeat_at > c.first_heartbeat_at
        ]
        first = [
            (c.first_heartbeat_bytes - c.ready_bytes) / (c.first_heartbeat_at - c.ready_at)
            for c in clients
            if c.heartbeats and c.first_heartbeat_at > c.ready_at
        ]
        rates = steady or first
        return {
            "clients": len(clients),
            "initial_bytes": sum(initial) / len(initial) if initial else None,
            "heartbeats": sum(c.heartbeats for c in clients),
            "clients_with_heartbeat": len(first),
            "rate_from": "steady" if steady else "first interval" if first else "none",
            "bytes_per_second": sum(rates) / len(rates) if rates else None,
            "total_bytes": sum(c.bytes for c in clients),
        }

    async def sse_close(self, timeout_s: float = 30) -> dict[str, Any]:
        clients, self.sse.clients = self.sse.clients, []
        for client in clients:
            if client.transport is not None and not client.closed:
                client.transport.close()
        if self.sse.connected > 0:
            self.sse.drained.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.sse.drained.wait(), timeout_s)
        self.sse = SseGroup()
        return {"closed": len(clients)}

    async def storm_prepare(
        self, port: int, path: str, headers: dict[str, str], count: int
    ) -> dict[str, Any]:
        """Pair the first `count` open streams each with a keep-alive connection of its own."""
        clients = self.sse.live()[:count]
        if len(clients) < count:
            raise RuntimeError(f"{len(clients)} open streams, {count} needed")
        pairs = {client: Connection(port, timeout_s=30) for client in clients}
        await asyncio.gather(*(connection.open() for connection in pairs.values()))
        self.sse.storm = Storm(path, headers, pairs)
        return {"paired": len(pairs)}

    def _storm(self) -> Storm:
        if self.sse.storm is None:
            raise RuntimeError("storm_prepare first")
        return self.sse.storm

    async def storm_arm(self) -> dict[str, Any]:
        """From now on, the next event each client hears sets off its re-fetch."""
        self._storm().arm()
        return {}

    async def storm_again(self) -> dict[str, Any]:
        """Every client re-fetches now, as if it had heard its last event again: with the ETag
        it holds, the server has nothing new to send."""
        storm = self._storm()
        storm.arm()
        storm.started = clock()
        for client, event_id in storm.seen.items():
            storm.refetch(client, event_id)
        return {}

    async def storm_wait(self, timeout_s: float) -> dict[str, Any]:
        """Until every client has its fragment, or the timeout. Times count from the event's
        `changed_at` (after `storm_arm`) or from the start (after `storm_again`)."""
        storm = self._storm()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(storm.all_done.wait(), timeout_s)
        origin = storm.started or min(self.sse.receipts.changed_at.values(), default=clock())
        return {**storm.summary(origin), "timed_out": not storm.all_done.is_set()}

    async def storm_end(self) -> dict[str, Any]:
        storm, self.sse.storm = self.sse.storm, None
        if storm is not None:
            for task in storm.tasks:
                task.cancel()
            for connection in storm.pairs.values():
                connection.close()
        return {}

    async def poll(self, groups: list[dict[str, Any]], duration_s: float) -> dict[str, Any]:
        """Several groups of pollers at once, each client on its own keep-alive connection
        fetching `path` every `interval_s`, their starts spread over one interval."""
        loop = asyncio.get_running_loop()
        start = loop.time() + 0.05
        runs: list[Coroutine[Any, Any, dict[str, Any]]] = []
        for group in groups:
            clients, interval = int(group["clients"]), float(group["interval_s"])
            for index in range(clients):
                offset = interval * index / clients
                runs.append(
                    _poller(
                        group["port"],
                        group["path"],
                        group["headers"],
                        interval,
                        start + offset,
                        start + duration_s,
                    )
                )
        results = await asyncio.gather(*runs)
        answers = []
        position = 0
        for group in groups:
            mine = results[position : position + int(group["clients"])]
            position += int(group["clients"])
            latencies = [x for r in mine for x in r.pop("latencies")]
            totals = {k: sum(r[k] for r in mine) for k in mine[0]} if mine else {}
            answers.append({**totals, "latency": latency_summary(latencies)})
        return {"groups": answers, "duration_s": duration_s}

    async def write(
        self, port: int, headers: dict[str, str], writers: list[list[list[Any]]], duration_s: float
    ) -> dict[str, Any]:
        """Each writer cycles its own purchases through the open statuses until the time is up.
        Returns counts by outcome; a 409 (someone else moved it) drops that purchase."""
        deadline = asyncio.get_running_loop().time() + duration_s
        started = time.monotonic()
        results = await asyncio.gather(*(_writer(port, headers, p, deadline) for p in writers))
        latencies = [x for r in results for x in r.pop("latencies")]
        ended = max((r.pop("ended") for r in results), default=time.monotonic())
        totals = {k: sum(r[k] for r in results) for k in results[0]} if results else {}
        return {
            **totals,
            "seconds": ended - started,
            "latency": latency_summary(latencies),
        }


async def _poller(
    port: int, path: str, headers: dict[str, str], interval: float, first: float, end: float
) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    connection = Connection(port, timeout_s=10)
    result: dict[str, Any] = {"requests": 0, "errors": 0, "bytes_down": 0, "latencies": []}
    due = first
    try:
        while due < end:
            await asyncio.sleep(max(due - loop.time(), 0))
            began = time.perf_counter()
            try:
                response = await connection.request("GET", path, headers)
            except (OSError, TimeoutError, asyncio.IncompleteReadError):
                result["errors"] += 1
                connection.close()
            else:
                result["requests"] += 1
                result["bytes_down"] += response.wire_bytes
                result["latencies"].append(time.perf_counter() - began)
                if response.status != 200:
                    result["errors"] += 1
            due = max(due + interval, loop.time())
    finally:
        result["bytes_up"] = connection.bytes_sent
        connection.close()
    return result


async def _writer(
    port: int, headers: dict[str, str], purchases: list[list[Any]], deadline: float
) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    connection = Connection(port, timeout_s=30)
    result: dict[str, Any] = {"ok": 0, "conflicts": 0, "rejected": 0, "errors": 0}
    latencies: list[float] = []
    mine = list(purchases)
    turn = 0
    try:
        while mine and loop.time() < deadline:
            purchase = mine[turn % len(mine)]
            purchase_id, status, version = purchase
            target = next_open_status(status)
            form = {"status": target, "version": str(version), "notes": ""}
            began = time.perf_counter()
            try:
                path = f"/purchases/supply/{purchase_id}/status"
                response = await connection.request("POST", path, headers, form=form)
            except (OSError, TimeoutError, asyncio.IncompleteReadError):
                result["errors"] += 1
                connection.close()
                await asyncio.sleep(0.05)
                continue
            latencies.append(time.perf_counter() - began)
            if response.status == 200:
                result["ok"] += 1
                purchase[1], purchase[2] = target, version + 1
                turn += 1
            elif response.status == 409:
                result["conflicts"] += 1
                mine.remove(purchase)
            elif response.status == 422:
                result["rejected"] += 1
                mine.remove(purchase)
            else:
                result["errors"] += 1
    finally:
        connection.close()
    return {**result, "latencies": latencies, "ended": time.monotonic()}


async def serve_commands() -> None:
    """Read commands from stdin, answer each on stdout, until `quit` or end of input."""
    generator = LoadGenerator()
    resuming = ResumingStreams()
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=16 * 1024 * 1024)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    handlers: dict[str, Callable[..., Coroutine[Any, Any, dict[str, Any]]]] = {
        "sse_open": generator.sse_open,
        "arm": generator.arm,
        "wait": generator.wait,
        "collect": generator.collect,
        "idle_bytes": generator.idle_bytes,
        "sse_close": generator.sse_close,
        "poll": generator.poll,
        "write": generator.write,
        "storm_prepare": generator.storm_prepare,
        "storm_arm": generator.storm_arm,
        "storm_again": generator.storm_again,
        "storm_wait": generator.storm_wait,
        "storm_end": generator.storm_end,
        "resume_open": resuming.open,
        "resume_arm": resuming.arm,
        "resume_target": resuming.set_target,
        "resume_caught": resuming.wait_caught,
        "resume_through": resuming.wait_through,
        "resume_collect": resuming.collect,
        "resume_close": resuming.close,
    }
    limit = raise_open_files_limit()
    _answer({"ready": True, "open_files_limit": limit, "pid": os.getpid()})
    while line := await reader.readline():
        command = json.loads(line)
        op = command.pop("op")
        if op == "quit":
            break
        try:
            _answer(await handlers[op](**command))
        except Exception as error:  # reported to the orchestrator, which stops the bench
            _answer({"error": f"{op}: {type(error).__name__}: {error}"})
    await generator.sse_close(timeout_s=5)
    await resuming.close(timeout_s=5)


def _answer(reply: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(reply) + "\n")
    sys.stdout.flush()


# --- Resuming streams (the `reconnect` scenario) ---------------------------------------------
# Each stream remembers the id of the last event it received and, when its connection is cut,
# comes back with `Last-Event-ID` as EventSource does: after a random delay, retrying refused
# attempts with a growing pause. What each one received is kept as one receipt count per event
# id (a bytearray from the run's first id), so a missing and a doubled id are both seen.

FRAME_END = b"\n\n"
STREAM_END = b"\r\n0\r\n\r\n"  # the last chunk of a response the server ended
CONNECT_TIMEOUT_S = 5.0  # one attempt; a SYN dropped by a full backlog is retried within it
MAX_HEAD_BYTES = 64 * 1024
IDLE, SCHEDULED, CONNECTING, OPEN = range(4)


class ResumingClient(asyncio.Protocol):
    """One `GET /events` stream that resumes after its last event id when cut."""

    __slots__ = (
        "back_at",
        "book",
        "caught_at",
        "counts",
        "cut_at",
        "failures_in_row",
        "in_body",
        "last_id",
        "live",
        "opened",
        "refused",
        "state",
        "tail",
        "through",
        "timer",
        "transport",
    )

    def __init__(self, book: ResumingStreams) -> None:
        self.book = book
        self.transport: asyncio.Transport | None = None
        self.state = IDLE
        self.opened: asyncio.Future[bool] | None = None  # the first open only
        self.last_id: int | None = None  # sent as Last-Event-ID
        self.counts = bytearray()  # receipts of event `book.base + 1 + i` since `arm`
        self.through = 0  # every event up to this id received since `arm`
        self.tail = b""
        self.in_body = False
        self.live = False  # the stream is open: 200 and its first chunk (`retry:`) came
        self.failures_in_row = 0
        self.refused = False  # this attempt was answered with something else than a stream
        self.timer: asyncio.TimerHandle | None = None  # the reconnect due
        self.cut_at = self.back_at = self.caught_at = 0.0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        self.state = OPEN
        self.tail, self.in_body, self.refused = b"", False, False
        resume = b"" if self.last_id is None else b"last-event-id: %d\r\n" % self.last_id
        self.transport.write(self.book.request + resume + b"\r\n")

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        self.state = IDLE
        cut, self.live = self.live, False
        if cut:
            self.cut_at = clock()
            self.book.cuts += 1
        elif not self.refused:
            self.book.failed("closed before the stream opened")
        if self.opened is not None and not self.opened.done():
            self.opened.set_result(False)
        self.book.schedule(self, after_cut=cut)

    def data_received(self, data: bytes) -> None:
        now = clock()
        buffer = self.tail + data if self.tail else data
        if not self.in_body:
            end = buffer.find(HEADER_END)
            if end < 0:
                self.tail = buffer
                if len(buffer) > MAX_HEAD_BYTES:
                    self._refused("response head too large")
                return
            if not buffer.startswith(b"HTTP/1.1 200"):
                self._refused(buffer[9:12].decode(errors="replace"))
                return
            self.in_body = True
            buffer = buffer[end + 2 :]  # keep one CRLF so the first line starts after a newline
        if not self.live and len(buffer) > 2:  # the first body chunk (`retry:`)
            self._opened(now)
        self.tail = self._scan(buffer, now)
        if buffer.endswith(STREAM_END) and self.transport is not None:
            self.transport.close()  # the server ended the response: reconnect

    def _opened(self, now: float) -> None:
        self.live = True
        self.failures_in_row = 0
        book = self.book
        book.streams_opened += 1
        if self.opened is not None and not self.opened.done():
            self.opened.set_result(True)
        if not book.target:
            book.reopened_early += self.cut_at > 0  # on the old server, before it exited
        elif not self.back_at:  # the first stream since the old server exited
            self.back_at = now
            book.back += 1
            self._check_caught(now)

    def _refused(self, why: str) -> None:
        self.refused = True
        self.book.failed(f"answered {why}")
        if self.transport is not None:
            self.transport.close()

    def _scan(self, buffer: bytes, now: float) -> bytes:
        """Note each event whose frame is complete (its blank line came, as EventSource
        dispatches it); a resync moves the last id as EventSource would, and is counted.
        Returns what must wait for the next read."""
        position = 0
        while True:
            start = buffer.find(ID_LINE, position)
            if start < 0:
                return buffer[max(position, len(buffer) - KEEP) :]
            end = buffer.find(FRAME_END, start + len(ID_LINE))
            if end < 0:
                return buffer[start:]
            position = end + 1
            line_end = buffer.find(b"\n", start + len(ID_LINE))
            event_id = _number(buffer[start + len(ID_LINE) : line_end])
            if event_id is None:
                continue
            self.last_id = event_id
            if buffer.startswith(RESYNC_LINE, line_end):
                self.book.resyncs += 1
            else:
                self._note(event_id, now)

    def _note(self, event_id: int, now: float) -> None:
        book = self.book
        index = event_id - book.base - 1
        if index < 0:
            book.stale += 1  # an event from before the run: a duplicate of one received then
            return
        counts = self.counts
        if index >= len(counts):
            counts.extend(bytes(index + 1 - len(counts)))
        if counts[index]:
            book.duplicates[event_id] += 1
        counts[index] = min(counts[index] + 1, 255)
        through = self.through - book.base
        while through < len(counts) and counts[through]:
            through += 1
        self.through = book.base + through
        self._check_caught(now)

    def _check_caught(self, now: float) -> None:
        """Caught up: open again since the old server exited, with every event up to the
        book's target."""
        book = self.book
        if self.back_at and not self.caught_at and book.target and self.through >= book.target:
            self.caught_at = now
            book.caught += 1
            if book.caught >= len(book.clients):
                book.all_caught.set()

    def arm(self, base: int) -> None:
        if self.last_id is None:
            self.last_id = base  # as a page's `?after=`: its cursor when it was rendered
        self.counts = bytearray()
        self.through = base
        self.cut_at = self.back_at = self.caught_at = 0.0


def _this(client: ResumingClient) -> Callable[[], ResumingClient]:
    """The protocol factory handing `create_connection` this very client."""
    return lambda: client


class ResumingStreams:
    """The resuming streams of one server and what they received since `resume_arm`."""

    def __init__(self) -> None:
        self.clients: list[ResumingClient] = []
        self.request = b""
        self.port = 0
        self.random = random.Random(0)  # noqa: S311 (spreading reconnects, not secrets)
        self.spread_s = 2.0
        self.backoff_s = 0.25
        self.backoff_max_s = 1.0
        self.until = 0.0  # loop time after which no stream reconnects
        self.closing = False
        self.connecting: set[asyncio.Task[None]] = set()
        self._reset(0)

    def _reset(self, base: int) -> None:
        self.base = base
        self.target = 0
        self.caught = self.back = self.cuts = self.streams_opened = self.reopened_early = 0
        self.attempts = self.stale = self.resyncs = 0
        self.duplicates: Counter[int] = Counter()  # event id -> second (or later) receipts
        self.failures: Counter[str] = Counter()  # failed attempts by what went wrong
        self.all_caught = asyncio.Event()

    # --- Reconnecting ---

    def failed(self, what: str) -> None:
        """Count a failed attempt, telling those before the old server exited from those
        after (the new server's, or refused while none runs)."""
        self.failures[f"{what} ({'after' if self.target else 'before'} the exit)"] += 1

    def schedule(self, client: ResumingClient, after_cut: bool) -> None:
        """Reconnect `client` later: after a cut at a random delay within `spread_s`, after a
        failed attempt at `backoff_s` doubled per failure in a row (at most `backoff_max_s`),
        with jitter. Nothing after `until` or once closing."""
        loop = asyncio.get_running_loop()
        if self.closing or client.state != IDLE or loop.time() >= self.until:
            return
        if after_cut:
            delay = self.random.uniform(0, self.spread_s)
        else:
            pause = min(self.backoff_s * 2**client.failures_in_row, self.backoff_max_s)
            delay = pause * self.random.uniform(0.5, 1.0)
            client.failures_in_row += 1
        client.state = SCHEDULED
        client.timer = loop.call_later(delay, self._attempt, client)

    def _attempt(self, client: ResumingClient) -> None:
        client.timer = None
        if self.closing or client.state != SCHEDULED:
            return
        client.state = CONNECTING
        self.attempts += 1
        task = asyncio.get_running_loop().create_task(self._connect(client))
        self.connecting.add(task)
        task.add_done_callback(self.connecting.discard)

    async def _connect(self, client: ResumingClient) -> None:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(CONNECT_TIMEOUT_S):
                await loop.create_connection(_this(client), HOST, self.port)
        except (OSError, TimeoutError) as error:
            self.failed(type(error).__name__)
            if client.state == CONNECTING:  # not already lost and rescheduled
                client.state = IDLE
                self.schedule(client, after_cut=False)

    # --- Commands ---

    async def open(
        self,
        port: int,
        count: int,
        batch: int,
        headers: dict[str, str],
        spread_s: float,
        backoff_s: float,
        backoff_max_s: float,
        timeout_s: float,
    ) -> dict[str, Any]:
        """Open `count` resuming streams in batches (as `sse_open`); they reconnect when cut
        only after `resume_arm`. Fails when one does not open within `timeout_s`."""
        if self.clients:
            raise RuntimeError("resume_close first")
        self.port, self.closing, self.until = port, False, 0.0
        self.spread_s, self.backoff_s, self.backoff_max_s = spread_s, backoff_s, backoff_max_s
        # Without the blank line: a reconnect adds its Last-Event-ID header first.
        self.request = sse_request("/events", port, headers)[:-2]
        loop = asyncio.get_running_loop()
        started = time.monotonic()
        deadline = started + timeout_s
        for first in range(0, count, batch):
            clients = [ResumingClient(self) for _ in range(min(batch, count - first))]
            self.clients.extend(clients)
            for client in clients:
                client.opened = loop.create_future()
                client.state = CONNECTING
            connects = [loop.create_connection(_this(c), HOST, port) for c in clients]
            await asyncio.gather(*connects, return_exceptions=True)
            waiting = [c.opened for c in clients if c.opened is not None and not c.opened.done()]
            if waiting:
                await asyncio.wait(waiting, timeout=max(deadline - time.monotonic(), 0))
            failed = sum(1 for c in clients if not c.live)
            for client in clients:
                client.opened = None
            if failed:
                raise RuntimeError(f"{failed} of {len(clients)} streams did not open")
        return {"opened": len(self.clients), "seconds": time.monotonic() - started}

    async def arm(self, base: int, follow_s: float) -> dict[str, Any]:
        """Count from event `base` on (every stream has it); cut streams reconnect for the
        next `follow_s` seconds."""
        self._reset(base)
        self.until = asyncio.get_running_loop().time() + follow_s
        for client in self.clients:
            client.arm(base)
        return {"live": sum(c.live for c in self.clients)}

    async def set_target(self, target: int) -> dict[str, Any]:
        """The old server has exited, `target` being the newest event committed: from now on
        a stream that opens is back, and caught up once it also has every event up to
        `target`."""
        self.target = target
        now = clock()
        for client in self.clients:
            client._check_caught(now)
        return {"caught": self.caught}

    async def wait_caught(self, timeout_s: float) -> dict[str, Any]:
        """Until every stream is caught up (see `set_target`), or the timeout."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.all_caught.wait(), timeout_s)
        return {
            "caught": self.caught,
            "back": self.back,
            "timed_out": not self.all_caught.is_set(),
        }

    async def wait_through(self, last: int, timeout_s: float) -> dict[str, Any]:
        """Until every stream is open and has every event up to `last`, or the timeout."""
        deadline = time.monotonic() + timeout_s
        while True:
            behind = sum(1 for c in self.clients if c.through < last or not c.live)
            if not behind or time.monotonic() >= deadline:
                return {"behind": behind, "timed_out": bool(behind)}
            await asyncio.sleep(0.05)

    async def collect(self, last: int, origin: float) -> dict[str, Any]:
        """The run's figures: events up to `last` never received (lost) or received twice
        (duplicated), and times from `origin` (on `clock()`) until each stream was back
        and caught up."""
        base, expected = self.base, max(last - self.base, 0)
        lost = 0
        lost_by_id: Counter[int] = Counter()
        for client in self.clients:
            counts = client.counts[:expected].ljust(expected, b"\0")
            missing = counts.count(0)
            if missing:
                lost += missing
                lost_by_id.update(base + 1 + i for i, count in enumerate(counts) if not count)
        backs = [c.back_at - origin for c in self.clients if c.back_at]
        caughts = [c.caught_at - origin for c in self.clients if c.caught_at]
        cuts = [c.cut_at - origin for c in self.clients if c.cut_at]
        return {
            "clients": len(self.clients),
            "events": expected,
            "receipts_expected": expected * len(self.clients),
            "lost": lost,
            "lost_ids": dict(sorted(lost_by_id.items())[:20]),  # id -> streams without it
            "duplicated": self.duplicates.total() + self.stale,
            "duplicated_ids": dict(sorted(self.duplicates.items())[:20]),  # id -> extra receipts
            "stale": self.stale,
            "resyncs": self.resyncs,
            "cuts": self.cuts,
            "reopened_early": self.reopened_early,
            "back": self.back,
            "caught": self.caught,
            "attempts": self.attempts,
            "failures": dict(self.failures),
            "live": sum(c.live for c in self.clients),
            "cut_s": latency_summary(cuts) | {"min": min(cuts, default=None)},
            "back_s": latency_summary(backs) | {"min": min(backs, default=None)},
            "caught_s": latency_summary(caughts) | {"min": min(caughts, default=None)},
        }

    async def close(self, timeout_s: float = 30) -> dict[str, Any]:
        """Close every stream, with no reconnect."""
        self.closing = True
        for client in self.clients:
            if client.timer is not None:
                client.timer.cancel()
        for task in list(self.connecting):
            task.cancel()
        clients, self.clients = self.clients, []
        for client in clients:
            if client.transport is not None:
                client.transport.close()
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if all(c.transport is None for c in clients):
                break
            await asyncio.sleep(0.05)  # polling: each transport ends on a later turn of the loop
        return {"closed": len(clients)}


if __name__ == "__main__":
    run(serve_commands())
