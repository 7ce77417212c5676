"""The garbage collector's pauses in this process, for `GET /health` and the bench.

A full collection walks every tracked object, and with thousands of open streams that walk is
what a tail latency is made of. `freeze_startup` moves everything the app created while starting
(modules, routes, templates) out of the collector's way until `thaw`; `GcPauses` times each
collection by generation."""

from __future__ import annotations

import gc
import time
from typing import Any

GENERATIONS = 3


def freeze_startup() -> None:
    """Collect once, then exempt every object alive now from later collections."""
    gc.collect()
    gc.freeze()


def thaw() -> None:
    """Give the frozen objects back to the collector (at shutdown: an app started and stopped
    within a longer-lived process, as in the tests, leaves nothing behind)."""
    gc.unfreeze()


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
