"""The scenario registry.

A scenario is an async function taking the `Harness` and returning an `Outcome`: JSON-ready
data (kept in var/bench/*.json under the scenario's name) and the tables to print. Register it
with `@scenario(name, title)` in a module of this package and add the module to `MODULES`;
`python -m bench --only name` then runs it alone. Rules every scenario follows: the load comes
from the load generator process (`harness.loadgen`), only over 127.0.0.1; counts and waits are
bounded; every figure is measured in `mode.runs` runs and reported as `Spread` (median, min,
max); a comparison is measured side by side in the same run and reported as a per-run ratio.
A scenario that takes long may put what it has finished so far in `harness.partial[name]`
(an `Outcome`): an interrupted bench still reports it."""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bench.harness import Harness
from bench.report import Outcome

__all__ = ["REGISTRY", "Outcome", "Scenario", "load", "scenario"]

Run = Callable[[Harness], Awaitable[Outcome]]


@dataclass(frozen=True)
class Scenario:
    name: str
    title: str
    run: Run


REGISTRY: dict[str, Scenario] = {}
# In the order they run: the memory figures come from the fan-out runs' fresh servers.
MODULES = (
    "bench.scenarios.fanout",
    "bench.scenarios.storm",
    "bench.scenarios.idle",
    "bench.scenarios.writes",
    "bench.scenarios.browser",
    "bench.scenarios.burst",
    "bench.scenarios.reconnect",
    "bench.scenarios.export",
)


def scenario(name: str, title: str) -> Callable[[Run], Run]:
    def register(run: Run) -> Run:
        if name in REGISTRY:
            raise ValueError(f"scenario {name!r} registered twice")
        REGISTRY[name] = Scenario(name, title, run)
        return run

    return register


def load() -> dict[str, Scenario]:
    for module in MODULES:
        importlib.import_module(module)
    return REGISTRY
