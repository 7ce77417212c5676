"""The garbage collector's pauses in this process, for `GET /health` and the bench.

A full collection walks every tracked object, and with thousands of open streams that walk is
what a tail latency is made of. `freeze_startup` moves everything the app created while starting
(modules, routes, templates) out of the collector's way until `thaw`; `StreamFreezer` does the
same for what thousands of open streams hold; `GcPauses` times each collection by generation."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from typing import Any

GENERATIONS = 3
_started: list[bool] = []  # whether an app of this process has frozen its start-up already


def freeze_startup() -> None:
    """Collect once, then exempt every object alive now from later collections. Once per
    process: what a later app of the same process adds (in the tests, hundreds of apps, each
    paying a full collection of the whole test run's heap) is left to the collector."""
    if _started:
        return
    _started.append(True)
    gc.collect()
    gc.freeze()


def thaw() -> None:
    """Give the frozen objects back to the collector (at shutdown: an app started and stopped
    within a longer-lived process, as in the tests, leaves nothing behind)."""
    gc.unfreeze()


# Streams opened since the last freeze before the next one: below this nothing is frozen.
FREEZE_STEP = 500


class StreamFreezer:
    """Keeps what open streams hold out of full collections while thousands connect at once
    (a restart's reconnect storm): each time the open streams have grown by FREEZE_STEP (and a
    quarter) since the last freeze, a young collection, then everything alive is frozen (cheap:
    the generations' lists are spliced). A closed stream's objects are freed by their counts
    even when frozen, but the few in reference cycles (a connection and its transport: about
    5 KB a stream) stay until given back. So once most streams have gone (fewer than half a
    step open), one full collection takes them back, while it has little to walk, and what is
    left is frozen again. Between storms, streams that come and go are collected as usual."""

    def __init__(
        self,
        step: int = FREEZE_STEP,
        collect: Callable[..., int] = gc.collect,
        freeze: Callable[[], None] = gc.freeze,
        unfreeze: Callable[[], None] = gc.unfreeze,
    ) -> None:
        self.step = step
        self.frozen_at = 0  # open streams at the last freeze (0: none to give back)
        self.freezes = 0
        self.thaws = 0
        self._collect, self._freeze, self._unfreeze = collect, freeze, unfreeze

    def opened(self, open_now: int) -> None:
        if open_now >= self.frozen_at + max(self.step, self.frozen_at // 4):
            self._collect(1)
            self._freeze()
            self.frozen_at = open_now
            self.freezes += 1

    def closed(self, open_now: int) -> None:
        if self.frozen_at and open_now < self.step // 2:
            self._unfreeze()
            self._collect()
            self._freeze()
            self.frozen_at = 0
            self.thaws += 1


class GcPauses:
    def __init__(self) -> None:
        self.collections = [0] * GENERATIONS
        self.total_s = [0.0] * GENERATIONS
        self.longest_s = [0.0] * GENERATIONS
        self._began = 0.0

    def install(self) -> None:
        if self._observe not in gc.callbacks:
            gc.callbacks.append(self._observe)

    def uninstall(self) -> None:
        if self._observe in gc.callbacks:
            gc.callbacks.remove(self._observe)

    def _observe(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._began = time.perf_counter()
            return
        paused = time.perf_counter() - self._began
        generation = info["generation"]
        self.collections[generation] += 1
        self.total_s[generation] += paused
        self.longest_s[generation] = max(self.longest_s[generation], paused)

    def as_dict(self) -> dict[str, Any]:
        return {
            "collections": list(self.collections),
            "total_ms": [round(s * 1000, 3) for s in self.total_s],
            "longest_ms": [round(s * 1000, 3) for s in self.longest_s],
            "frozen": gc.get_freeze_count(),
        }
