"""One frozen settings object, read from the environment."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
TRUE_WORDS = {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Settings:
    database_url: str
    secret_key: str = field(repr=False)
    host: str = "127.0.0.1"
    port: int = 8000
    debug: bool = False
    var_dir: Path = PROJECT_ROOT / "var"
    heartbeat_s: float = 15.0
    retry_ms: int = 2000
    stream_queue_limit: int = 256
    event_retention: int = 10_000
    catch_up_s: float = 1.0
    session_idle_minutes: int = 480
    stream_recheck_s: float = 5.0
    login_failures_per_account: int = 5
    login_failures_per_ip: int = 20
    login_lockout_minutes: int = 15
    trusted_proxies: str = ""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Build settings from the environment; unset values get development defaults."""
        env = os.environ if env is None else env
        var_dir = Path(env.get("VAR_DIR", PROJECT_ROOT / "var")).resolve()
        return cls(
            database_url=env.get("DATABASE_URL") or f"sqlite:///{var_dir / 'purchasing.sqlite3'}",
            secret_key=env.get("SECRET_KEY") or _kept_secret(var_dir / "secret_key"),
            host=env.get("HOST", "127.0.0.1"),
            port=int(env.get("PORT", "8000")),
            debug=env.get("DEBUG", "").lower() in TRUE_WORDS,
            var_dir=var_dir,
            heartbeat_s=float(env.get("SSE_HEARTBEAT_S", "15")),
            retry_ms=int(env.get("SSE_RETRY_MS", "2000")),
            stream_queue_limit=int(env.get("SSE_QUEUE_LIMIT", "256")),
            event_retention=int(env.get("EVENT_RETENTION", "10000")),
            catch_up_s=float(env.get("EVENT_CATCH_UP_S", "1")),
            session_idle_minutes=int(env.get("SESSION_IDLE_MINUTES", "480")),
            stream_recheck_s=float(env.get("STREAM_RECHECK_S", "5")),
            login_failures_per_account=int(env.get("LOGIN_FAILURES_PER_ACCOUNT", "5")),
            login_failures_per_ip=int(env.get("LOGIN_FAILURES_PER_IP", "20")),
            login_lockout_minutes=int(env.get("LOGIN_LOCKOUT_MINUTES", "15")),
            trusted_proxies=env.get("TRUSTED_PROXIES", ""),
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
