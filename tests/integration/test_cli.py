"""The `purchasing` command against a real migrated database."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from purchasing.cli import main
from purchasing.live import outbox
from purchasing.live.brokers import broker_from_url
from purchasing.services.demo_data import MAIN
from purchasing.settings import Settings
from purchasing.tables import AppUser, Company, OutboxEvent, Purchase, UserFarm
from tests.helpers.brokers import Heard
from tests.helpers.servers import PURCHASING, shared_redis
from tests.helpers.sse import eventually

# The commands' own output only (CliRunner mixes stderr, where INFO log lines go, into it), in
# English whatever the shell running the tests speaks.
QUIET = {"LOG_LEVEL": "WARNING", "LANGUAGE": "en"}


@pytest.fixture
def env(tmp_path: Path, database: str) -> dict[str, str]:
    """The command's environment, on this test's demo database (which the assertions read)."""
    return {"DATABASE_URL": database, "SECRET_KEY": "cli-test", "VAR_DIR": str(tmp_path), **QUIET}


def sync(query: Any) -> Any:
    async def wrapped() -> Any:
        return await query

    return asyncio.run(wrapped())


def run(env: dict[str, str], *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), env=env)
    return result.exit_code, result.output


def counts() -> tuple[int, int, int]:
    async def query() -> tuple[int, int, int]:
        return await Company.count(), await AppUser.count(), await Purchase.count()

    return asyncio.run(query())


COMMAND_TIMEOUT_S = 60  # a command run as a process; it takes a few seconds

NEW_OPERATOR = ("--password", "kandang-123", "--role", "operator", "--company", MAIN.name)


def test_users_create_makes_an_operator_who_can_log_in(env: dict[str, str]) -> None:
    code, out = run(env, "users", "create", "siti", *NEW_OPERATOR, "--farm", "F02")
    assert (code, out.strip()) == (0, "Created siti (Operator).")


def test_the_command_speaks_its_shells_language(env: dict[str, str]) -> None:
    indonesian = {**env, "LANGUAGE": "", "LANG": "id_ID.UTF-8"}
    code, out = run(indonesian, "users", "create", "rini", *NEW_OPERATOR, "--farm", "F02")
    assert (code, out.strip()) == (0, "rini (Operator) sudah dibuat.")
    code, out = run(indonesian, "users", "create", "rini", *NEW_OPERATOR, "--farm", "F02")
    assert code != 0
    assert "Nama pengguna 'rini' sudah dipakai." in out  # refusals are worded in it too
    code, out = run(indonesian, "users", "deactivate", "rini")
    assert (code, out.strip()) == (0, "rini sekarang dinonaktifkan.")


def test_users_create_asks_which_company_when_there_are_several(env: dict[str, str]) -> None:
    code, out = run(
        env, "users", "create", "rina", "--password", "kandang-123", "--role", "manager"
    )
    assert code == 2
    assert "company: Name the user's company (--company)." in out


def test_the_new_user_is_stored_with_a_hashed_password_and_farms(env: dict[str, str]) -> None:
    run(env, "users", "create", "budi", *NEW_OPERATOR, "--farm", "F01", "--farm", "F03")
    user = sync(AppUser.select().where(AppUser.username == "budi").first())
    assert user is not None
    assert user["password_hash"].startswith("$argon2")
    farms = sync(UserFarm.select(UserFarm.farm._.code).where(UserFarm.user == user["id"]))
    assert sorted(f["farm.code"] for f in farms) == ["F01", "F03"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["admin", "--password", "long-enough", "--role", "manager"],
            "username: The username 'admin' is taken.",
        ),
        (
            ["x1", "--password", "short", "--role", "manager"],
            "password: Use at least 8 characters.",
        ),
        (
            ["x2", "--password", "long-enough", "--role", "operator", "--farm", "F99"],
            "farm: There is no farm",
        ),
        (
            ["x3", "--password", "long-enough", "--role", "manager", "--company", "Nope"],
            "company: There is no company",
        ),
    ],
)
def test_users_create_explains_bad_input_and_creates_nothing(
    env: dict[str, str], args: list[str], message: str
) -> None:
    before = counts()
    code, out = run(env, "users", "create", *args)
    assert code == 2
    assert message in out
    assert counts() == before


def test_seed_demo_twice_creates_nothing_twice(env: dict[str, str]) -> None:
    before = counts()
    code, out = run(env, "seed-demo")
    assert code == 0
    assert "already present" in out
    assert "supervisor-demo" in out
    assert counts() == before


def test_seed_demo_if_empty_leaves_a_used_database_alone(env: dict[str, str]) -> None:
    code, out = run(env, "seed-demo", "--if-empty")
    assert code == 0
    assert "already has data" in out


def test_migrate_then_seed_on_a_fresh_database(tmp_path: Path, blank_database: str) -> None:
    env = {"DATABASE_URL": blank_database, "SECRET_KEY": "x", "VAR_DIR": str(tmp_path), **QUIET}
    assert run(env, "migrate")[0] == 0
    code, out = run(env, "seed-demo", "--if-empty")
    assert (code, "Demo data loaded." in out) == (0, True)
    per_kind = {
        k: sync(Purchase.count().where(Purchase.kind == k)) for k in ("supply", "feed", "livestock")
    }
    assert all(n >= 40 for n in per_kind.values()), per_kind
    statuses = sync(Purchase.select(Purchase.kind, Purchase.status).distinct())
    assert len(statuses) == 7 + 7 + 8


@pytest.mark.parametrize(("kind", "count"), [("supply", 11), ("feed", 15), ("livestock", 18)])
def test_simulate_makes_real_changes_each_with_one_event(
    env: dict[str, str], kind: str, count: int
) -> None:
    code, out = run(env, "simulate", "--kind", kind, "--count", str(count))
    assert (code, out.strip()) == (
        0,
        f"{kind}: {count} changes, {count} events, 0 suppressed duplicates",
    )


def test_simulate_double_submits_are_suppressed_not_emitted(env: dict[str, str]) -> None:
    before = sync(OutboxEvent.count())
    code, out = run(env, "simulate", "--kind", "feed", "--count", "5", "--double-submit")
    assert (code, out.strip()) == (0, "feed: 5 changes, 5 events, 5 suppressed duplicates")
    assert sync(OutboxEvent.count()) == before + 5


def test_simulate_needs_a_real_user(env: dict[str, str]) -> None:
    code, out = run(env, "simulate", "--kind", "feed", "--count", "1", "--user", "nobody")
    assert code == 1
    assert "There is no active user 'nobody'." in out


async def test_simulate_tells_running_servers_of_its_events_through_the_broker(
    env: dict[str, str],
) -> None:
    """A server hears of each change at once (not on its catch-up timer), on the channel of the
    deployment the command derives from the same database."""
    namespace = Settings.from_env(env).namespace
    listener, heard = broker_from_url(shared_redis(), namespace), Heard()
    await listener.start(heard)
    try:
        await eventually(lambda: listener.connected)
        simulate = await asyncio.create_subprocess_exec(
            *PURCHASING,
            *("simulate", "--kind", "feed", "--count", "3"),
            env={**os.environ, **env, "BROKER_URL": shared_redis(), "PYTHONUNBUFFERED": "1"},
        )
        try:  # a command that never ends fails here, rather than holding the whole suite
            assert await asyncio.wait_for(simulate.wait(), COMMAND_TIMEOUT_S) == 0
        finally:
            if simulate.returncode is None:
                simulate.kill()
                await simulate.wait()
        newest = await outbox.newest_id()
        await eventually(lambda: newest in heard.ids)
    finally:
        await listener.stop()
