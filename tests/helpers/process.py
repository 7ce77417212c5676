"""A server under test in a subprocess of its own: started with its output in a log file, stopped
with SIGTERM (SIGKILL when it has not ended 10 s later) or killed at once, as in a crash.

The one process helper of the tests (the app in `servers.AppServer`, nginx in e2e/test_proxy.py)
and of the bench (`bench.servers.BenchServer`: the app, the floor, the peer). Standard library
only, so that the bench needs nothing of the tests but this file."""

from __future__ import annotations

import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any


class ServerProcess:
    STOP_TIMEOUT_S = 10

    def __init__(self, name: str, port: int, log_path: Path) -> None:
        self.name = name
        self.port = port
        self.log_path = log_path
        self.url = f"http://127.0.0.1:{port}"
        self.process: subprocess.Popen[bytes] | None = None

    def spawn(self, command: list[str], env: Mapping[str, str] | None = None, **popen: Any) -> None:
        """Start `command`, its output appended to the log; `popen` is passed to `Popen`."""
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                command,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                **popen,
            )

    @property
    def pid(self) -> int:
        assert self.process is not None, f"{self.name} was never started"
        return self.process.pid

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        """SIGTERM, as a process manager stops it; SIGKILL if that has not ended it in time."""
        if not self.alive():
            return
        assert self.process is not None
        self.process.terminate()
        try:
            self.process.wait(self.STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(self.STOP_TIMEOUT_S)

    def kill(self) -> None:
        """SIGKILL: the process vanishes without a word, as in a crash."""
        if self.alive():
            assert self.process is not None
            self.process.kill()
            self.process.wait(self.STOP_TIMEOUT_S)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def log_tail(self, lines: int = 20) -> str:
        return "\n".join(self.log().splitlines()[-lines:])
