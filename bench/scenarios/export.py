"""Exporting a view of 50,000 purchases: how long the download takes and how much memory the
server needs for it, as Excel and as CSV.

One app instance on a copy of the SQLite database grown to `EXPORT_ROWS` supply purchases
(copies of one demo purchase, each with an invoice of its own). In every run each format is
downloaded once, one after the other (`GET /purchases/supply/export.xlsx`, then `export.csv`,
the default view: every purchase of the session's scope). Per download: the time from the
request to its last byte, the file's size, the server's CPU, and its extra memory: the peak
resident size during the download (VmHWM, reset before it through /proc/<pid>/clear_refs)
minus the resident size before it."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from contextlib import closing
from pathlib import Path
from typing import Any

import httpx

from bench import databases
from bench.harness import PASSWORD, USERNAME, Harness, say
from bench.httpclient import login
from bench.procstat import cpu_seconds, rss_kb
from bench.report import Table
from bench.scenarios import Outcome, scenario
from bench.stats import Spread

EXPORT_ROWS = 50_000
FORMATS = ("xlsx", "csv")
DOWNLOAD_TIMEOUT_S = 120.0


def grow(path: Path, rows: int) -> int:
    """Add `rows` copies of the first supply purchase, invoices EXP/1, EXP/2, ...; the number of
    supply purchases then."""
    with closing(sqlite3.connect(path)) as db:
        columns = [c[1] for c in db.execute("PRAGMA table_info(purchase)") if c[1] != "id"]
        values = ["'EXP/' || n" if c == "invoice_number" else c for c in columns]
        names, picked = ", ".join(columns), ", ".join(values)  # from the table itself
        seq = "WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < ?)"
        one = "(SELECT * FROM purchase WHERE kind = 'supply' ORDER BY id LIMIT 1)"
        sql = f"{seq} INSERT INTO purchase ({names}) SELECT {picked} FROM seq, {one}"  # noqa: S608
        db.execute(sql, (rows,))
        db.commit()
        return int(db.execute("SELECT COUNT(*) FROM purchase WHERE kind = 'supply'").fetchone()[0])


def peak_rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmHWM for process {pid}")


def reset_peak(pid: int) -> None:
    Path(f"/proc/{pid}/clear_refs").write_text("5")


async def download(port: int, extension: str, cookie: dict[str, str], pid: int) -> dict[str, Any]:
    before_kb, cpu = rss_kb(pid), cpu_seconds(pid)
    reset_peak(pid)
    size = 0
    async with httpx.AsyncClient(timeout=DOWNLOAD_TIMEOUT_S) as client:
        began = time.perf_counter()
        url = f"http://127.0.0.1:{port}/purchases/supply/export.{extension}"
        async with client.stream("GET", url, headers=cookie) as response:
            response.raise_for_status()
            async for chunk in response.aiter_bytes():
                size += len(chunk)
        took = time.perf_counter() - began
    return {
        "seconds": took,
        "bytes": size,
        "cpu_s": cpu_seconds(pid) - cpu,
        "extra_mb": max(peak_rss_kb(pid) - before_kb, 0) / 1024,
    }


@scenario("export", "Export: a view of 50,000 purchases as Excel and as CSV")
async def export(harness: Harness) -> Outcome:
    name = "app-export"
    var_dir = harness.workdir / name
    path = databases.copy_sqlite(harness.sqlite_template, var_dir / "bench.sqlite3")
    total = await asyncio.to_thread(grow, path, EXPORT_ROWS)
    say(f"export: {total:,} supply purchases")
    server = harness.processes.app(name, var_dir, databases.sqlite_url(path))
    runs: dict[str, list[dict[str, Any]]] = {fmt: [] for fmt in FORMATS}
    try:
        await server.wait_healthy()
        session = await login(server.port, USERNAME, PASSWORD)
        for run in range(harness.mode.runs):
            say(f"export: run {run + 1}/{harness.mode.runs}")
            for extension in FORMATS:
                runs[extension].append(
                    await download(server.port, extension, session.headers(), server.pid)
                )
    finally:
        harness.stop([server])
    table = Table(
        f"Export: the supply view of {total:,} purchases, downloaded whole",
        ["format", "download s", "file MB", "server CPU s", "server extra memory MB"],
    )
    for extension in FORMATS:
        results = runs[extension]
        table.rows.append(
            [
                "Excel (XLSX)" if extension == "xlsx" else "CSV",
                Spread.of(r["seconds"] for r in results).text(digits=2),
                Spread.of(r["bytes"] / 1e6 for r in results).text(digits=1),
                Spread.of(r["cpu_s"] for r in results).text(digits=2),
                Spread.of(r["extra_mb"] for r in results).text(digits=1),
            ]
        )
    table.notes.append(
        "Download: from the request to the last byte (the file is written whole, a batch of "
        "2,000 rows at a time, before its first byte goes). Extra memory: the server's peak "
        "resident size during the download minus its size before (VmHWM, reset first). "
        "Targets: under 10 s and under 100 MB."
    )
    return Outcome({"rows": total, "runs": runs}, [table])
