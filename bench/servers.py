"""Starting and stopping the processes under test: the app, the floor and the two peers.

Every process (a `BenchServer`, on tests/helpers/process.py) is started with its open-files
limit raised to the hard limit, writes its output to a log file in the bench's temporary
directory, and is stopped with SIGTERM (SIGKILL after 10 s). `Processes` remembers all of them so
that a failure or Ctrl-C still stops every one."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.httpclient import Connection
from bench.procstat import child_setup
from tests.helpers.process import ServerProcess

PYTHON = sys.executable
ROOT = Path(__file__).resolve().parents[1]
START_TIMEOUT_S = 60
# Settings of the app that must keep their defaults in the bench, whatever the shell has set.
APP_SETTINGS = (
    "BROKER_URL",
    "STORE_URL",
    "WORKERS",
    "DB_POOL_SIZE",
    "HOST",
    "PORT",
    "DEBUG",
    "SSE_HEARTBEAT_S",
    "SSE_RETRY_MS",
    "SSE_QUEUE_LIMIT",
    "EVENT_RETENTION",
    "EVENT_MAX_AGE_HOURS",
    "EVENT_CATCH_UP_S",
    "SESSION_IDLE_MINUTES",
    "STREAM_RECHECK_S",
    "TRUSTED_PROXIES",
    "STREAMS_PER_SESSION",
    "STREAMS_PER_USER",
    "STREAMS_RETRY_AFTER_S",
    "LOGIN_FAILURES_PER_ACCOUNT",
    "LOGIN_FAILURES_PER_IP",
    "LOGIN_FAILURES_PER_ACCOUNT_GLOBAL",
    "LOGIN_LOCKOUT_MINUTES",
    "PASSWORD_THREADS",
    "PASSWORD_QUEUE",
    "DIRECT_STREAMS",
)
# The bench stands for thousands of browsers with one logged-in session: the caps on streams per
# session and per user (20 and 100 by default) would refuse all but the first.
BENCH_SETTINGS = {"STREAMS_PER_SESSION": "1000000", "STREAMS_PER_USER": "1000000"}


class Ports:
    """Listening ports for the servers: below the kernel's ephemeral range, so that none can be
    taken meanwhile as the source port of one of the load generator's thousands of
    connections, and never the same one twice in a bench (each checked free when handed out).
    Where the search starts depends on the process id, so two benches rarely meet."""

    def __init__(self) -> None:
        low = _ephemeral_low() - 1
        span = max(low - 10_000, 1_000)
        self._next = low - (os.getpid() * 37) % span

    def take(self) -> int:
        for _ in range(2_000):
            port, self._next = self._next, self._next - 1
            if self._next < 10_000:
                self._next = _ephemeral_low() - 1
            if _bindable(port):
                return port
        raise RuntimeError("no free port below the ephemeral range")


def _ephemeral_low() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32_768


def _bindable(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def app_env(var_dir: Path, database_url: str, **settings: str) -> dict[str, str]:
    """The app's environment: this machine's, without any app setting but those given."""
    env = {k: v for k, v in os.environ.items() if k not in APP_SETTINGS}
    env.update(
        VAR_DIR=str(var_dir),
        DATABASE_URL=database_url,
        SECRET_KEY="bench",  # noqa: S106 (signs the bench's throwaway sessions only)
        PYTHONUNBUFFERED="1",
        PYTHONPATH=str(ROOT),
        **BENCH_SETTINGS,
        **settings,
    )
    return env


class BenchServer(ServerProcess):
    """A process under test (tests/helpers/process.py), with the bench's own questions to it,
    asked through the bench's HTTP client."""

    async def get_json(self, path: str = "/health", timeout_s: float = 10) -> dict[str, Any]:
        connection = Connection(self.port, timeout_s=timeout_s)
        try:
            response = await connection.request("GET", path)
        finally:
            connection.close()
        if response.status != 200:
            raise RuntimeError(f"{self.name}: GET {path} answered {response.status}")
        result: dict[str, Any] = json.loads(response.body)
        return result

    async def wait_healthy(self, timeout_s: float = START_TIMEOUT_S) -> None:
        """Until `GET /health` answers 200, or fail with the end of the server's log."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if not self.alive():
                raise RuntimeError(f"{self.name} exited at start:\n{self.log_tail()}")
            try:
                await self.get_json(timeout_s=2)
                return
            except (OSError, TimeoutError, RuntimeError, asyncio.IncompleteReadError):
                await asyncio.sleep(0.1)  # polling for readiness
        raise RuntimeError(f"{self.name} did not answer in {timeout_s:.0f} s:\n{self.log_tail()}")

    async def wait_streams(self, count: int, timeout_s: float = 60) -> int:
        """Until the server reports `count` open streams in `GET /health`; returns the last
        count seen (which differs from `count` only on timeout)."""
        deadline = time.monotonic() + timeout_s
        seen = -1
        while time.monotonic() < deadline:
            seen = int((await self.get_json())["streams"])
            if seen == count:
                return seen
            await asyncio.sleep(0.05)
        return seen


@dataclass
class Processes:
    """Every process the bench started, so that all of them are stopped however it ends."""

    log_dir: Path
    started: list[BenchServer] = field(default_factory=list)
    ports: Ports = field(default_factory=Ports)

    def spawn(self, name: str, args: list[str], env: dict[str, str], port: int) -> BenchServer:
        server = BenchServer(name, port, self.log_dir / f"{name}.log")
        server.spawn(
            [PYTHON, *args],
            env,
            cwd=ROOT,
            preexec_fn=child_setup,
            start_new_session=True,  # Ctrl-C reaches the bench only, which stops this in order
        )
        self.started.append(server)
        return server

    def app(self, name: str, var_dir: Path, database_url: str, **settings: str) -> BenchServer:
        port = self.ports.take()
        args = ["-m", "purchasing", "serve", "--port", str(port)]
        return self.spawn(name, args, app_env(var_dir, database_url, **settings), port)

    def floor(self, name: str = "floor") -> BenchServer:
        port = self.ports.take()
        return self.spawn(name, ["-m", "bench.floor", "--port", str(port)], bench_env(), port)

    def peer(self, name: str = "peer") -> BenchServer:
        port = self.ports.take()
        return self.spawn(name, ["-m", "bench.peer", "--port", str(port)], bench_env(), port)

    def peer_starlette(self, name: str = "peer-starlette") -> BenchServer:
        port = self.ports.take()
        args = ["-m", "bench.peer_starlette", "--port", str(port)]
        return self.spawn(name, args, bench_env(), port)

    def stop(self, servers: list[BenchServer]) -> None:
        """SIGTERM to each at once, then wait for each (SIGKILL after 10 s)."""
        for server in servers:
            if server.alive() and server.process is not None:
                server.process.terminate()
        for server in servers:
            server.stop()
            if server in self.started:
                self.started.remove(server)

    def stop_all(self) -> None:
        self.stop(list(self.started))

    def app_on(
        self, name: str, port: int, var_dir: Path, database_url: str, **settings: str
    ) -> BenchServer:
        """The app on a given `port`: a restart where its clients come back, with the same
        VAR_DIR (sessions) and database as before."""
        args = ["-m", "purchasing", "serve", "--port", str(port)]
        return self.spawn(name, args, app_env(var_dir, database_url, **settings), port)

    async def end(self, server: BenchServer, timeout_s: float = 10) -> int | None:
        """SIGTERM, then wait for the exit without blocking the event loop (SIGKILL after
        `timeout_s`); returns the exit code."""
        process = server.process
        if process is not None and process.poll() is None:
            process.terminate()
            deadline = time.monotonic() + timeout_s
            while time.monotonic() < deadline:
                if process.poll() is not None:
                    break
                await asyncio.sleep(0.01)  # polling: the process is not the loop's child
            if process.poll() is None:
                process.kill()
                await asyncio.to_thread(process.wait, timeout_s)
        if server in self.started:
            self.started.remove(server)
        return None if process is None else process.returncode


def bench_env() -> dict[str, str]:
    return {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONPATH": str(ROOT)}


async def run_command(args: list[str], env: dict[str, str], timeout_s: float = 180) -> str:
    """Run `python <args>` to completion (migrate, seed-demo); its output, or fail with it."""
    process = await asyncio.create_subprocess_exec(
        PYTHON,
        *args,
        env=env,
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        preexec_fn=child_setup,
        start_new_session=True,
    )
    try:
        output, _ = await asyncio.wait_for(process.communicate(), timeout_s)
    except BaseException:
        if process.returncode is None:
            process.kill()
            await process.wait()
        raise
    text = output.decode(errors="replace")
    if process.returncode != 0:
        raise RuntimeError(f"python {' '.join(args)} failed:\n{text}")
    return text
