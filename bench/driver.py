"""The orchestrator's side of the load generator: start it, send commands, read answers."""

from __future__ import annotations

import asyncio
import json
import subprocess
from pathlib import Path
from typing import Any

from bench.procstat import child_setup
from bench.servers import PYTHON, ROOT, bench_env

# Every command's own timeout plus this margin bounds the wait for its answer.
ANSWER_MARGIN_S = 60


class LoadGeneratorError(RuntimeError):
    pass


class LoadGenerator:
    """`python -m bench.loadgen` as a child process, one JSON line per command and answer."""

    def __init__(self, log_path: Path) -> None:
        self.log_path = log_path
        self.process: asyncio.subprocess.Process | None = None
        self.pid = 0
        self.busy = False  # a command is waiting for its answer

    async def start(self) -> dict[str, Any]:
        with self.log_path.open("ab") as log:
            self.process = await asyncio.create_subprocess_exec(
                PYTHON,
                "-m",
                "bench.loadgen",
                cwd=ROOT,
                env=bench_env(),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                limit=16 * 1024 * 1024,
                preexec_fn=child_setup,
                start_new_session=True,  # Ctrl-C reaches the bench only, which stops this in order
            )
        hello = await self._read(30)
        self.pid = int(hello["pid"])
        return hello

    async def call(self, op: str, **arguments: Any) -> dict[str, Any]:
        """Send one command; wait for its answer as long as the command's own `timeout_s` and
        `duration_s` (default 60 s), plus a margin."""
        stdin = self._process().stdin
        if stdin is None:
            raise LoadGeneratorError("the load generator has no stdin")
        stdin.write(json.dumps({"op": op, **arguments}).encode() + b"\n")
        await stdin.drain()
        bound = float(arguments.get("timeout_s", 60)) + float(arguments.get("duration_s", 0))
        self.busy = True
        answer = await self._read(bound + ANSWER_MARGIN_S)
        self.busy = False
        if "error" in answer:
            raise LoadGeneratorError(answer["error"])
        return answer

    async def _read(self, timeout_s: float) -> dict[str, Any]:
        stdout = self._process().stdout
        if stdout is None:
            raise LoadGeneratorError("the load generator has no stdout")
        line = await asyncio.wait_for(stdout.readline(), timeout_s)
        if not line:
            tail = self.log_path.read_text(errors="replace")[-2000:]
            raise LoadGeneratorError(f"the load generator exited:\n{tail}")
        answer: dict[str, Any] = json.loads(line)
        return answer

    def _process(self) -> asyncio.subprocess.Process:
        if self.process is None:
            raise LoadGeneratorError("the load generator is not running")
        return self.process

    def kill(self) -> None:
        """The last resort when an orderly stop cannot run (cancelled mid-way)."""
        if self.process is not None and self.process.returncode is None:
            self.process.kill()

    async def stop(self) -> None:
        """`quit` when idle; SIGTERM when interrupted in the middle of a command."""
        process, self.process = self.process, None
        if process is None or process.returncode is not None:
            return
        try:
            if self.busy:
                process.terminate()
            elif process.stdin is not None:
                process.stdin.write(b'{"op": "quit"}\n')
                await process.stdin.drain()
                process.stdin.close()
            await asyncio.wait_for(process.wait(), 10)
        except (OSError, TimeoutError):
            process.kill()
            await process.wait()
