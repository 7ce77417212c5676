"""The orchestrator: `python -m bench [--mode quick|full] [--only NAME,...] [--list]`.

Prepares the databases, starts the load generator, runs the scenarios (each starts and stops
its own servers), prints the tables and writes var/bench/<timestamp>-<mode>.json and
var/bench/latest.json. Everything it started is stopped, and the PostgreSQL database dropped,
however it ends (Ctrl-C and SIGTERM included)."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
import time
from datetime import datetime
from typing import Any

from bench import aio, report
from bench.config import MODES
from bench.harness import Harness, say
from bench.procstat import cpu_count, machine
from bench.report import Table
from bench.scenarios import Outcome, load
from bench.servers import ROOT


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--mode", choices=sorted(MODES), default="quick")
    parser.add_argument("--only", default="", help="comma-separated scenario names")
    parser.add_argument("--list", action="store_true", help="list the scenarios and exit")
    parser.add_argument(
        "--skip-postgres", action="store_true", help="leave out the PostgreSQL rows"
    )
    return parser.parse_args(argv)


def list_scenarios() -> None:
    for name, entry in load().items():
        print(f"{name:<20} {entry.title}")


async def main(args: argparse.Namespace) -> int:
    mode = MODES[args.mode]
    scenarios = load()
    wanted = [n.strip() for n in args.only.split(",") if n.strip()] or list(scenarios)
    unknown = [n for n in wanted if n not in scenarios]
    if unknown:
        print(f"unknown scenario(s) {', '.join(unknown)}; try --list", file=sys.stderr)
        return 2
    task = asyncio.current_task()
    if task is not None:  # SIGTERM (make, CI) cleans up the way Ctrl-C does
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    started, clock = datetime.now().astimezone(), time.monotonic()
    meta: dict[str, Any] = {
        "mode": mode.name,
        "started_at": started.isoformat(timespec="seconds"),
        "machine": machine(),
        "cores": cpu_count(),
        "python": report.python_version(),
        "loop": aio.loop_name(),
        "commit": report.git_commit(),
        "runs": mode.runs,
        "scenarios_run": wanted,
        "load_generator": report.SHARED_CORES.format(cores=cpu_count()),
    }
    print(f"Purchasing Live bench, {mode.name} mode: {', '.join(wanted)}", flush=True)
    outcomes: dict[str, Outcome] = {}
    failed = []
    interrupted = False
    async with Harness(mode, skip_postgres=args.skip_postgres) as harness:
        try:
            for name in wanted:
                say(f"scenario {name}: {scenarios[name].title}")
                try:
                    outcomes[name] = await scenarios[name].run(harness)
                except Exception as error:  # the other scenarios still run; the exit code says
                    failed.append(name)
                    message = f"{type(error).__name__}: {error}"
                    say(f"scenario {name} FAILED: {message}")
                    outcomes[name] = Outcome(
                        {"error": message}, [Table(f"{name}: failed", ["error"], [[message]])]
                    )
        except asyncio.CancelledError:  # Ctrl-C or SIGTERM: keep what finished, then stop
            interrupted = True
            say("interrupted: stopping everything; what finished is reported below")
            for name, partial in harness.partial.items():
                if name not in outcomes:
                    for table in partial.tables:
                        table.title += " (PARTIAL: the bench was interrupted)"
                    outcomes[name] = Outcome({**partial.data, "partial": True}, partial.tables)
        meta["postgres"] = harness.postgres_skipped or "used"
        harness.failed = bool(failed)
    meta["duration_s"] = round(time.monotonic() - clock, 1)
    meta["interrupted"] = interrupted
    if interrupted and not outcomes:
        raise asyncio.CancelledError
    parts = report.header_lines(meta)
    parts.append(f"- Total bench time: {meta['duration_s']:.0f} s")
    for outcome in outcomes.values():
        parts += ["", *(table.render() + "\n" for table in outcome.tables)]
    markdown = "\n".join(parts).rstrip()
    print()
    print(markdown)
    path = report.write(meta, {name: o.data for name, o in outcomes.items()}, markdown)
    if interrupted:
        print(f"\nPartial results (finished scenarios only): {path.relative_to(ROOT)}")
        raise asyncio.CancelledError
    print(f"\nResults: {path.relative_to(ROOT)} and var/bench/latest.json")
    if failed:
        print(f"Failed: {', '.join(failed)} (server logs kept, see above)", file=sys.stderr)
        return 1
    return 0


def entry(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.list:
        list_scenarios()
        return 0
    try:
        return aio.run(main(args))
    except (KeyboardInterrupt, asyncio.CancelledError):
        print("bench interrupted: every process it started was stopped", file=sys.stderr)
        return 130
