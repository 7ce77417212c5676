"""Settings refuse what the app cannot run with, saying which setting and why."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from purchasing import db
from purchasing.settings import NAMESPACE, Settings, SettingsError, namespace_of

BASE = {"DATABASE_URL": "sqlite:///x.sqlite3", "SECRET_KEY": "k", "VAR_DIR": "var"}


def settings(**env: str) -> Settings:
    return Settings.from_env({**BASE, **env})


def test_defaults_are_one_process_with_the_in_process_broker() -> None:
    made = settings()
    assert made.broker_url == "memory://"
    assert made.workers == 1
    assert made.store_url == ""
    assert made.event_max_age_hours == 24
    assert made.catch_up_s == 1
    assert (made.login_failures_per_account, made.login_failures_per_account_global) == (5, 50)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"EVENT_CATCH_UP_S": "5"}, "EVENT_CATCH_UP_S must be above 0 and at most 2"),
        ({"EVENT_CATCH_UP_S": "0"}, "EVENT_CATCH_UP_S must be above 0"),
        ({"EVENT_CATCH_UP_S": "soon"}, "EVENT_CATCH_UP_S must be a number, not 'soon'"),
        ({"WORKERS": "4"}, "4 workers need a broker"),
        ({"WORKERS": "0"}, "WORKERS must be at least 1"),
        ({"BROKER_URL": "kafka://h:9092"}, "BROKER_URL must be memory://, redis://"),
        ({"STORE_URL": "memcached://h"}, "STORE_URL must be empty"),
        ({"EVENT_MAX_AGE_HOURS": "-1"}, "EVENT_MAX_AGE_HOURS between 0 and"),
        ({"EVENT_MAX_AGE_HOURS": "inf"}, "EVENT_MAX_AGE_HOURS between 0 and"),
        ({"DB_POOL_SIZE": "0"}, "DB_POOL_SIZE must be at least 1"),
        ({"PASSWORD_PROFILE": "md5"}, "PASSWORD_PROFILE must be one of RFC_9106_LOW_MEMORY"),
        ({"PORT": "eighty"}, "PORT must be a number"),
        ({"METRICS_TOKEN": "short"}, "METRICS_TOKEN must be at least 16 characters"),
        ({"READY_MAX_LAG_S": "0"}, "READY_MAX_LAG_S must be above 0"),
        ({"TEMPLATES_DIR": "/nowhere"}, "TEMPLATES_DIR must be a folder of templates"),
        ({"STATIC_DIR": "/nowhere"}, "STATIC_DIR must be a folder"),
        ({"LOGIN_FAILURES_PER_IP": "0"}, "LOGIN_FAILURES_PER_ACCOUNT and LOGIN_FAILURES_PER_IP"),
        ({"LOGIN_LOCKOUT_MINUTES": "0"}, "LOGIN_LOCKOUT_MINUTES must be at least 1"),
        ({"BROKER_NAMESPACE": "two words"}, "BROKER_NAMESPACE must be 1 to 32 letters, dig"),
        ({"BROKER_NAMESPACE": "farm:north"}, "BROKER_NAMESPACE must be .* not 'farm:north'"),
        ({"BROKER_NAMESPACE": "n" * 33}, "BROKER_NAMESPACE must be 1 to 32 letters"),
        (
            {"LOGIN_FAILURES_PER_ACCOUNT_GLOBAL": "4"},
            "LOGIN_FAILURES_PER_ACCOUNT_GLOBAL must be at least LOGIN_FAILURES_PER_ACCOUNT",
        ),
    ],
)
def test_unusable_settings_are_refused_with_a_clear_message(
    env: dict[str, str], message: str
) -> None:
    with pytest.raises(SettingsError, match=message):
        settings(**env)


@pytest.mark.parametrize(
    "spelling",
    [
        "postgres://app@db.internal:5432/purchasing",
        "postgresql://app:secret@10.0.0.3/purchasing?sslmode=require",
        "postgres://other@localhost/purchasing",
    ],
)
def test_the_broker_namespace_is_the_postgres_database_however_the_server_is_spelled(
    spelling: str,
) -> None:
    """Processes of one deployment may reach its server by different names; they agree on the
    database, and so on the channel."""
    assert settings(DATABASE_URL=spelling).namespace == "purchasing"
    assert settings(DATABASE_URL=spelling.replace("/purchasing", "/staging")).namespace == (
        "staging"
    )


def test_the_broker_namespace_is_the_sqlite_file_wherever_it_is_named_from(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "var").mkdir()
    monkeypatch.chdir(tmp_path)
    relative = settings(DATABASE_URL="sqlite:///var/purchasing.sqlite3").namespace
    absolute = settings(DATABASE_URL=f"sqlite:///{tmp_path}/var/../var/purchasing.sqlite3")
    assert relative == absolute.namespace
    assert relative.startswith("purchasing-")
    assert settings(DATABASE_URL="sqlite:///var/other.sqlite3").namespace != relative


@pytest.mark.parametrize(
    "url", ["sqlite:////srv/a b/ünï.sqlite3", "postgres://h/" + "long_name." * 8, "postgres://h"]
)
def test_a_derived_namespace_is_always_a_valid_one(url: str) -> None:
    assert NAMESPACE.fullmatch(namespace_of(url))


def test_an_explicit_broker_namespace_wins_over_the_database() -> None:
    made = settings(DATABASE_URL="postgres://u@h/purchasing", BROKER_NAMESPACE="farm-north_2")
    assert made.namespace == "farm-north_2"


@pytest.mark.parametrize(
    "proxies", ["*", "10.0.0.5, *", "0.0.0.0/0", "::/0", "0.0.0.0/1,128.0.0.0/1"]
)
def test_trusting_every_address_as_a_proxy_is_refused_with_what_to_set_instead(
    proxies: str,
) -> None:
    """Every client could then name its own address: the login limits and the audit trail
    would believe it."""
    with pytest.raises(SettingsError) as refused:
        settings(TRUSTED_PROXIES=proxies)
    assert str(refused.value) == (
        f"TRUSTED_PROXIES={proxies!r} trusts every client to name its own address "
        "(X-Forwarded-For), so anyone could escape the login limits and forge the audit trail: "
        "list the proxies' addresses instead, e.g. TRUSTED_PROXIES=10.0.0.5,10.0.0.6"
    )


@pytest.mark.parametrize("entry", ["proxy.example", "10.0.0.5/24", "10.0.0.300"])
def test_a_proxy_that_is_not_an_address_or_network_is_refused(entry: str) -> None:
    """uvicorn would compare it as text with each client's address, and never match."""
    with pytest.raises(SettingsError, match=f"not {entry!r}"):
        settings(TRUSTED_PROXIES=f"10.0.0.6,{entry}")


def test_the_proxies_addresses_and_networks_are_accepted() -> None:
    proxies = "10.0.0.5, 10.0.0.6,10.1.0.0/16,::1,fd00::/8"
    assert settings(TRUSTED_PROXIES=proxies).trusted_proxies == proxies


@pytest.mark.parametrize("broker", ["redis://127.0.0.1:6379/0", "postgres://u@h/db"])
def test_several_workers_run_with_a_broker(broker: str) -> None:
    assert settings(WORKERS="4", BROKER_URL=broker).workers == 4


def test_urls_with_credentials_and_tokens_stay_out_of_the_settings_repr() -> None:
    made = settings(
        DATABASE_URL="postgres://u:hunter2@h/db",
        BROKER_URL="redis://:hunter2@h",
        METRICS_TOKEN="hunter2-hunter2-hunter2",
    )
    assert "hunter2" not in repr(made)


def test_a_malformed_broker_url_is_refused_without_echoing_its_password() -> None:
    with pytest.raises(SettingsError) as refused:
        settings(BROKER_URL="redis//:hunter2@h:6379/0")
    assert "hunter2" not in str(refused.value)


def test_a_postgres_engine_does_not_connect_until_the_app_starts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Piccolo's engine would check the server version at construction, blocking an import or a
    test on an unreachable server; ours connects only when the pool opens in the lifespan."""
    attempts: list[Any] = []

    async def connect(*args: Any, **kwargs: Any) -> None:
        attempts.append(args)
        raise OSError("no server here")

    monkeypatch.setattr("asyncpg.connect", connect)
    engine = db.engine_from_url("postgres://nobody@127.0.0.1:1/nothing")
    assert isinstance(engine, db.PostgresEngine)
    assert attempts == []
