"""Databases for the tests, built by running the real migrations (and the demo seed) once."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from purchasing import db
from purchasing.services.demo import seed_demo

SEED_DAY = "2026-11-20"


def _build(path: Path, with_demo: bool) -> Path:
    async def work() -> None:
        db.use_database(f"sqlite:///{path}")
        await db.migrate()
        if with_demo:
            from datetime import date

            await seed_demo(today=date.fromisoformat(SEED_DAY))

    asyncio.run(work())
    # Fold the write-ahead log into the main file so a plain copy is complete.
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path


@pytest.fixture(scope="session")
def migrated_db_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _build(tmp_path_factory.mktemp("template") / "empty.sqlite3", with_demo=False)


@pytest.fixture(scope="session")
def demo_db_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _build(tmp_path_factory.mktemp("template") / "demo.sqlite3", with_demo=True)


# What the hostile-input suite sent and what came back, reported after the run.
HOSTILE_RESULTS: dict[tuple[str, int], int] = {}


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not HOSTILE_RESULTS:
        return
    total = sum(HOSTILE_RESULTS.values())
    terminalreporter.write_line(f"hostile input: {total} requests")
    for (target, status), count in sorted(HOSTILE_RESULTS.items()):
        terminalreporter.write_line(f"  {target:<28} HTTP {status}: {count}")
