"""Printing the results as Markdown tables and keeping them as JSON under var/bench/."""

from __future__ import annotations

import json
import platform
import subprocess
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from bench.servers import ROOT

RESULTS_DIR = ROOT / "var" / "bench"
SHARED_CORES = (
    "The load generator runs on this same machine and shares its {cores} cores with the servers "
    "it measures (and with whatever else runs here): figures include its cost and its noise."
)


@dataclass
class Table:
    title: str
    columns: list[str]
    rows: list[list[str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def render(self) -> str:
        """A Markdown table, columns padded so it also reads well in a terminal."""
        widths = [len(c) for c in self.columns]
        for row in self.rows:
            widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=True)]

        def line(cells: list[str]) -> str:
            return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

        parts = [f"### {self.title}", "", line(self.columns)]
        parts.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
        parts += [line(row) for row in self.rows]
        if self.notes:
            parts.append("")
            parts += [f"- {note}" for note in self.notes]
        return "\n".join(parts)


@dataclass
class Outcome:
    """What a scenario hands back: JSON-ready data and the tables to print."""

    data: dict[str, Any]
    tables: list[Table] = field(default_factory=list)


def header_lines(meta: dict[str, Any]) -> list[str]:
    stopped = ["- INTERRUPTED: only the scenarios that finished are shown."]
    return [
        f"## Purchasing Live bench: {meta['mode']} mode, {meta['started_at']}",
        "",
        *(stopped if meta.get("interrupted") else []),
        f"- Machine: {meta['machine']}",
        f"- Python {meta['python']}, event loop {meta['loop']}, commit {meta['commit']}",
        f"- Every figure: median [min-max] of {meta['runs']} runs; ratios are taken per run, "
        "side by side, then summarised the same way.",
        f"- {SHARED_CORES.format(cores=meta['cores'])}",
    ]


def git_commit() -> str:
    try:
        result = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607 (git from PATH)
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        )
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "src"],  # noqa: S607
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return result.stdout.strip() + (" (src/ has uncommitted changes)" if dirty.stdout else "")


def python_version() -> str:
    return platform.python_version()


def write(meta: dict[str, Any], scenarios: dict[str, Any], markdown: str) -> Path:
    """`var/bench/<timestamp>-<mode>.json` and `latest.json` (and the tables as `latest.md`);
    an interrupted run only gets its own `<timestamp>-<mode>-interrupted.json`."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    document = {**meta, "scenarios": scenarios}
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    stamp = datetime.fromisoformat(meta["started_at"]).strftime("%Y%m%dT%H%M%S")
    suffix = "-interrupted" if meta.get("interrupted") else ""
    path = RESULTS_DIR / f"{stamp}-{meta['mode']}{suffix}.json"
    path.write_text(text)
    if not suffix:
        (RESULTS_DIR / "latest.json").write_text(text)
        (RESULTS_DIR / "latest.md").write_text(markdown + "\n")
    return path
