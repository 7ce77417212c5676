"""One frozen settings object, read from the environment."""

from __future__ import annotations

import hashlib
import ipaddress
import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from purchasing.i18n import LANGUAGES

PROJECT_ROOT = Path(__file__).resolve().parents[2]
TRUE_WORDS = {"1", "true", "yes", "on"}


MAX_CATCH_UP_S = 2.0
MAX_AGE_HOURS = 24 * 365
BROKER_SCHEMES = {"memory", "redis", "rediss", "postgres", "postgresql"}
MIN_TOKEN_LENGTH = 16
# A deployment's name on the broker: short, and plain enough for any channel name.
NAMESPACE = re.compile(r"[A-Za-z0-9_-]{1,32}")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
LOG_FORMATS = ("auto", "json", "console")
# argon2-cffi's parameter sets (services/passwords.py maps them); CHEAPEST is for tests only.
PASSWORD_PROFILES = ("RFC_9106_LOW_MEMORY", "RFC_9106_HIGH_MEMORY", "CHEAPEST")
EVERY_IPV4 = ipaddress.IPv4Network("0.0.0.0/0")
EVERY_IPV6 = ipaddress.IPv6Network("::/0")


def default_password_threads() -> int:
    """Half the CPUs: password hashing must leave the event loop a core of its own."""
    return max(1, (os.cpu_count() or 2) // 2)


class SettingsError(ValueError):
    """A setting the app cannot run with; the message says which and why."""


@dataclass(frozen=True)
class Settings:
    database_url: str = field(repr=False)
    secret_key: str = field(repr=False)
    broker_url: str = field(default="memory://", repr=False)
    broker_namespace: str = ""  # empty: derived from the database (`namespace`)
    store_url: str = field(default="", repr=False)
    workers: int = 1
    db_pool_size: int = 10
    host: str = "127.0.0.1"
    port: int = 8000
    debug: bool = False
    var_dir: Path = PROJECT_ROOT / "var"
    heartbeat_s: float = 15.0
    retry_ms: int = 2000
    stream_queue_limit: int = 256
    direct_streams: bool = True
    streams_per_session: int = 20
    streams_per_user: int = 100
    streams_retry_after_s: int = 30
    event_retention: int = 10_000
    event_max_age_hours: float = 24.0
    prune_every_s: float = 600.0
    sweep_every_s: float = 600.0  # expired sessions and counts of failed logins
    catch_up_s: float = 1.0
    session_idle_minutes: int = 480
    stream_recheck_s: float = 5.0
    login_failures_per_account: int = 5
    login_failures_per_ip: int = 20
    # From every address and browser that has not signed in to the account before, together.
    login_failures_per_account_global: int = 50
    login_lockout_minutes: int = 15
    password_threads: int = field(default_factory=default_password_threads)
    password_queue: int = 50
    # argon2's parameters for new hashes (argon2-cffi's profiles); CHEAPEST is for tests only.
    password_profile: str = "RFC_9106_LOW_MEMORY"  # noqa: S105 - a name, not a password
    trusted_proxies: str = ""
    log_level: str = "INFO"
    log_format: str = "auto"
    metrics_token: str = field(default="", repr=False)
    ready_max_lag_s: float = 10.0
    templates_dir: Path = PROJECT_ROOT / "templates"
    static_dir: Path = PROJECT_ROOT / "static"
    # For a visitor whose browser names no language the app speaks, and who chose none.
    default_language: str = "en"

    def __post_init__(self) -> None:
        if self.default_language not in LANGUAGES:
            raise SettingsError(
                f"DEFAULT_LANGUAGE must be one of {', '.join(LANGUAGES)}, "
                f"not {self.default_language!r}"
            )
        if not 0 < self.catch_up_s <= MAX_CATCH_UP_S:
            raise SettingsError(
                f"EVENT_CATCH_UP_S must be above 0 and at most {MAX_CATCH_UP_S:g} seconds: "
                "it bounds how late an event can be when a wake-up is lost"
            )
        if urlsplit(self.broker_url).scheme not in BROKER_SCHEMES:
            raise SettingsError(
                "BROKER_URL must be memory://, redis://host:port/db or postgres://..., not "
                f"{urlsplit(self.broker_url).scheme or 'a URL without a scheme'!r}"
            )
        if self.broker_namespace and not NAMESPACE.fullmatch(self.broker_namespace):
            raise SettingsError(
                "BROKER_NAMESPACE must be 1 to 32 letters, digits, '_' or '-' (it names this "
                f"deployment's channel on the broker), not {self.broker_namespace!r}"
            )
        if self.store_url and urlsplit(self.store_url).scheme not in {"redis", "rediss"}:
            raise SettingsError("STORE_URL must be empty (files under VAR_DIR) or redis://...")
        if self.workers < 1:
            raise SettingsError("WORKERS must be at least 1")
        if self.workers > 1 and self.broker_url.startswith("memory:"):
            raise SettingsError(
                f"{self.workers} workers need a broker to tell each other of changes, and "
                "BROKER_URL is memory:// (one process only). Set BROKER_URL to redis://host:6379/0 "
                "or to a postgres:// URL (LISTEN/NOTIFY), or run one worker."
            )
        if self.event_retention < 1 or not 0 < self.event_max_age_hours <= MAX_AGE_HOURS:
            raise SettingsError(
                f"EVENT_RETENTION must be positive and EVENT_MAX_AGE_HOURS between 0 and "
                f"{MAX_AGE_HOURS}"
            )
        if min(self.streams_per_session, self.streams_per_user, self.streams_retry_after_s) < 1:
            raise SettingsError(
                "STREAMS_PER_SESSION, STREAMS_PER_USER and STREAMS_RETRY_AFTER_S must be at least 1"
            )
        if self.password_threads < 1 or self.password_queue < 0:
            raise SettingsError("PASSWORD_THREADS must be at least 1 and PASSWORD_QUEUE at least 0")
        if self.password_profile not in PASSWORD_PROFILES:
            raise SettingsError(
                f"PASSWORD_PROFILE must be one of {', '.join(PASSWORD_PROFILES)}, "
                f"not {self.password_profile!r}"
            )
        if min(self.login_failures_per_account, self.login_failures_per_ip) < 1:
            raise SettingsError(
                "LOGIN_FAILURES_PER_ACCOUNT and LOGIN_FAILURES_PER_IP must be at least 1"
            )
        if self.login_failures_per_account_global < self.login_failures_per_account:
            raise SettingsError(
                "LOGIN_FAILURES_PER_ACCOUNT_GLOBAL must be at least LOGIN_FAILURES_PER_ACCOUNT: "
                "it is the account's limit from every unknown address and browser together"
            )
        if self.login_lockout_minutes < 1:
            raise SettingsError("LOGIN_LOCKOUT_MINUTES must be at least 1")
        if self.db_pool_size < 1:
            raise SettingsError("DB_POOL_SIZE must be at least 1")
        if not (self.templates_dir / "base.html.j2").is_file():
            raise SettingsError(
                f"TEMPLATES_DIR must be a folder of templates (with base.html.j2), not "
                f"{str(self.templates_dir)!r}. The app serves templates/, static/ and "
                "migrations/ from its source folder: install it from there with "
                "`pip install -e .` (or `make install`), not as a copy in site-packages."
            )
        if not self.static_dir.is_dir():
            raise SettingsError(f"STATIC_DIR must be a folder, not {str(self.static_dir)!r}")
        if self.ready_max_lag_s <= 0:
            raise SettingsError("READY_MAX_LAG_S must be above 0 seconds")
        if self.metrics_token and len(self.metrics_token) < MIN_TOKEN_LENGTH:
            raise SettingsError(
                f"METRICS_TOKEN must be at least {MIN_TOKEN_LENGTH} characters (or empty: "
                "metrics for localhost only)"
            )
        _check_trusted_proxies(self.trusted_proxies)
        if self.log_level not in LOG_LEVELS:
            raise SettingsError(
                f"LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, not {self.log_level!r}"
            )
        if self.log_format not in LOG_FORMATS:
            raise SettingsError(
                f"LOG_FORMAT must be auto (JSON unless stderr is a terminal), json or console, "
                f"not {self.log_format!r}"
            )

    @property
    def namespace(self) -> str:
        """This deployment's name on the broker: BROKER_NAMESPACE, else the database's."""
        return self.broker_namespace or namespace_of(self.database_url)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Build settings from the environment; unset values get development defaults."""
        env = os.environ if env is None else env
        var_dir = Path(env.get("VAR_DIR", PROJECT_ROOT / "var")).resolve()
        return cls(
            database_url=env.get("DATABASE_URL") or f"sqlite:///{var_dir / 'purchasing.sqlite3'}",
            secret_key=env.get("SECRET_KEY") or _kept_secret(var_dir / "secret_key"),
            broker_url=env.get("BROKER_URL") or "memory://",
            broker_namespace=env.get("BROKER_NAMESPACE", "").strip(),
            store_url=env.get("STORE_URL", ""),
            workers=_number(env, "WORKERS", "1", int),
            db_pool_size=_number(env, "DB_POOL_SIZE", "10", int),
            host=env.get("HOST", "127.0.0.1"),
            port=_number(env, "PORT", "8000", int),
            debug=env.get("DEBUG", "").lower() in TRUE_WORDS,
            var_dir=var_dir,
            heartbeat_s=_number(env, "SSE_HEARTBEAT_S", "15", float),
            retry_ms=_number(env, "SSE_RETRY_MS", "2000", int),
            stream_queue_limit=_number(env, "SSE_QUEUE_LIMIT", "256", int),
            direct_streams=env.get("DIRECT_STREAMS", "1").lower() in TRUE_WORDS,
            streams_per_session=_number(env, "STREAMS_PER_SESSION", "20", int),
            streams_per_user=_number(env, "STREAMS_PER_USER", "100", int),
            streams_retry_after_s=_number(env, "STREAMS_RETRY_AFTER_S", "30", int),
            event_retention=_number(env, "EVENT_RETENTION", "10000", int),
            event_max_age_hours=_number(env, "EVENT_MAX_AGE_HOURS", "24", float),
            catch_up_s=_number(env, "EVENT_CATCH_UP_S", "1", float),
            session_idle_minutes=_number(env, "SESSION_IDLE_MINUTES", "480", int),
            stream_recheck_s=_number(env, "STREAM_RECHECK_S", "5", float),
            login_failures_per_account=_number(env, "LOGIN_FAILURES_PER_ACCOUNT", "5", int),
            login_failures_per_ip=_number(env, "LOGIN_FAILURES_PER_IP", "20", int),
            login_failures_per_account_global=_number(
                env, "LOGIN_FAILURES_PER_ACCOUNT_GLOBAL", "50", int
            ),
            login_lockout_minutes=_number(env, "LOGIN_LOCKOUT_MINUTES", "15", int),
            password_threads=_number(env, "PASSWORD_THREADS", str(default_password_threads()), int),
            password_queue=_number(env, "PASSWORD_QUEUE", "50", int),
            password_profile=(env.get("PASSWORD_PROFILE") or "RFC_9106_LOW_MEMORY").strip().upper(),
            trusted_proxies=env.get("TRUSTED_PROXIES", ""),
            log_level=(env.get("LOG_LEVEL") or "INFO").strip().upper(),
            log_format=(env.get("LOG_FORMAT") or "auto").strip().lower(),
            metrics_token=env.get("METRICS_TOKEN", ""),
            ready_max_lag_s=_number(env, "READY_MAX_LAG_S", "10", float),
            templates_dir=Path(env.get("TEMPLATES_DIR") or PROJECT_ROOT / "templates").resolve(),
            static_dir=Path(env.get("STATIC_DIR") or PROJECT_ROOT / "static").resolve(),
            default_language=(env.get("DEFAULT_LANGUAGE") or "en").strip().lower(),
        )


def namespace_of(database_url: str) -> str:
    """The namespace every process of one deployment derives alike, however it spells the server:
    on PostgreSQL the database's name (not the host, which processes may reach by different
    names); on SQLite the database file, its path resolved. A name that is not a namespace as it
    stands becomes its plain letters and a hash of it."""
    if urlsplit(database_url).scheme == "sqlite":
        path = Path(database_url.removeprefix("sqlite:///")).resolve()
        return _fitted(path.stem, str(path))
    name = _postgres_database(database_url)
    return _fitted(name, name)


def _postgres_database(url: str) -> str:
    parts = urlsplit(url)
    named = unquote(parts.path.lstrip("/")) or parse_qs(parts.query).get("dbname", [""])[0]
    # libpq's default database is the user's name.
    return named or unquote(parts.username or "") or "postgres"


def _fitted(readable: str, whole: str) -> str:
    if NAMESPACE.fullmatch(whole):
        return whole
    digest = hashlib.sha256(whole.encode()).hexdigest()[:10]
    return f"{re.sub(r'[^A-Za-z0-9_-]', '', readable)[:20]}-{digest}"


def _number(env: Mapping[str, str], name: str, default: str, kind: type[float] | type[int]) -> Any:
    raw = env.get(name) or default
    try:
        return kind(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number, not {raw!r}") from None


def _check_trusted_proxies(value: str) -> None:
    """Each entry must be an address or network of the proxies, and together they must not be
    every address: a trusted client names any address it likes as its own (X-Forwarded-For),
    escaping the login limits and writing what it likes into the audit trail."""
    entries = [entry.strip() for entry in value.split(",") if entry.strip()]
    if "*" in entries or _covers_every_address([_network(entry) for entry in entries]):
        raise SettingsError(
            f"TRUSTED_PROXIES={value!r} trusts every client to name its own address "
            "(X-Forwarded-For), so anyone could escape the login limits and forge the audit "
            "trail: list the proxies' addresses instead, e.g. TRUSTED_PROXIES=10.0.0.5,10.0.0.6"
        )


def _network(entry: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    # Parsed as uvicorn parses it: anything else it would compare as text, and never match.
    try:
        return ipaddress.ip_network(entry)
    except ValueError:
        raise SettingsError(
            "TRUSTED_PROXIES must list the proxies' IP addresses or networks, comma-separated "
            f"(10.0.0.5,10.0.0.6 or 10.0.0.0/24), not {entry!r}"
        ) from None


def _covers_every_address(networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network]) -> bool:
    v4 = [n for n in networks if isinstance(n, ipaddress.IPv4Network)]
    v6 = [n for n in networks if isinstance(n, ipaddress.IPv6Network)]
    return EVERY_IPV4 in ipaddress.collapse_addresses(v4) or EVERY_IPV6 in (
        ipaddress.collapse_addresses(v6)
    )


def _kept_secret(path: Path) -> str:
    """Generate a secret once and keep it, so sessions survive restarts in development."""
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    path.write_text(secret)
    path.chmod(0o600)
    return secret
