"""`purchasing serve` ends open event streams on SIGTERM instead of waiting for them forever."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_sigterm_ends_open_streams_and_the_server_exits(tmp_path: Path, database: str) -> None:
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database, "VAR_DIR": str(tmp_path)}
    server = subprocess.Popen(
        [sys.executable, "-m", "purchasing", "serve", "--port", str(port)],
        env={**env, "SECRET_KEY": "graceful"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base, timeout=10) as client:
            wait_until_serving(client, server)
            client.get("/login")
            form = {"username": "admin", "password": "admin-demo"}
            client.post("/login", data=form, headers={"x-csrftoken": client.cookies["csrftoken"]})
            with client.stream("GET", "/events", timeout=30) as stream:
                chunks = stream.iter_bytes()
                assert next(chunks).startswith(b"retry:")
                started = time.monotonic()
                server.send_signal(signal.SIGTERM)
                rest = b"".join(chunks)  # returns only when the server ends the stream
                ended_after = time.monotonic() - started
            # A page reconnecting the moment its stream ended is refused (and retries, finding
            # the next server): the ending server stopped listening before ending its streams.
            with pytest.raises(ConnectionRefusedError):
                socket.create_connection(("127.0.0.1", port), timeout=5).close()
        # uvicorn re-raises the signal once it has shut down cleanly.
        assert server.wait(timeout=15) in (0, -signal.SIGTERM)
        assert b"event:" not in rest
        output = server.stdout.read().decode() if server.stdout else ""
        # The streams ended themselves; uvicorn did not have to cancel them at its deadline.
        assert "Shutting down" in output
        assert "timeout graceful shutdown exceeded" not in output
        print(f"stream ended {ended_after:.2f} s after SIGTERM")
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()


def wait_until_serving(client: httpx.Client, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert server.poll() is None, server.stdout.read() if server.stdout else ""
        try:
            client.get("/login")
            return
        except httpx.TransportError:
            time.sleep(0.1)  # polling for readiness, not waiting for an effect
    raise AssertionError("the server did not start")
