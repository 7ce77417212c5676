"""Log lines: JSON for machines, readable in a terminal, with their fields, the request's id, the
level asked for, and never a secret."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from purchasing.logs import HANDLER, MASK, configure_logging, current_request_id
from purchasing.settings import Settings, SettingsError
from purchasing.web.request_id import RequestId

STATUS_FIELDS = {"event_id": 12, "kind": "feed", "purchase_id": 7, "outcome": "ok"}
Configure = Callable[..., io.StringIO]


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def configure() -> Iterator[Configure]:
    """`configure_logging` onto a buffer; the root logger put back as it was afterwards."""
    root = logging.getLogger()
    level = root.level

    def configured(level: str = "INFO", fmt: str = "auto", stream: Any = None) -> io.StringIO:
        stream = io.StringIO() if stream is None else stream
        configure_logging(level, fmt, stream)
        return stream

    yield configured
    for handler in [h for h in root.handlers if h.get_name() == HANDLER]:
        root.removeHandler(handler)
    root.setLevel(level)
    logging.captureWarnings(False)


def lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_without_a_terminal_each_record_is_one_json_object_with_its_extras(
    configure: Configure,
) -> None:
    out = configure()
    logging.getLogger("purchasing.status").info("status change", extra=STATUS_FIELDS)
    [line] = lines(out)
    assert list(line)[:4] == ["timestamp", "level", "logger", "event"]
    assert line["timestamp"].endswith("Z")
    assert (line["level"], line["logger"], line["event"]) == (
        "info",
        "purchasing.status",
        "status change",
    )
    assert STATUS_FIELDS.items() <= line.items()


def test_in_a_terminal_lines_are_readable_key_value_text(configure: Configure) -> None:
    out = configure(stream=Terminal())
    logging.getLogger("purchasing.status").info("status change", extra=STATUS_FIELDS)
    text = out.getvalue()
    assert not text.startswith("{")
    for word in ("status change", "purchasing.status", "event_id", "12", "outcome", "ok"):
        assert word in text


def test_console_can_be_chosen_without_a_terminal_and_has_no_colours(
    configure: Configure,
) -> None:
    out = configure(fmt="console")
    logging.getLogger("purchasing.status").info("status change", extra=STATUS_FIELDS)
    text = out.getvalue()
    assert "\x1b[" not in text
    assert "status change" in text
    assert "event_id=12" in text


def test_an_exception_stays_on_its_one_json_line(configure: Configure) -> None:
    out = configure(fmt="json")
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        logging.getLogger("purchasing.errors").exception("unhandled error")
    [line] = lines(out)
    assert "RuntimeError: boom" in line["exception"]


def test_secret_fields_and_secrets_in_text_are_masked(configure: Configure) -> None:
    out = configure(fmt="json")
    extra = {
        "password": "hunter2-pw",
        "session_id": "f00dfeed",
        "request": {"headers": {"Cookie": "session=c0ffee", "X-CSRFToken": "csrf-abc"}},
        "user": "admin",
    }
    logging.getLogger("purchasing").info(
        "login with password=%s, csrftoken: %s, Authorization: Bearer %s",
        "hunter2-text",
        "csrf-text",
        "bearer-text",
        extra=extra,
    )
    text = out.getvalue()
    for secret in ("hunter2", "f00dfeed", "c0ffee", "csrf-abc", "csrf-text", "bearer-text"):
        assert secret not in text
    [line] = lines(out)
    assert line["password"] == line["session_id"] == MASK
    assert line["request"]["headers"] == {"Cookie": MASK, "X-CSRFToken": MASK}
    assert line["user"] == "admin"


def test_the_level_setting_is_honoured(configure: Configure) -> None:
    out = configure(level="WARNING", fmt="json")
    log = logging.getLogger("purchasing.live")
    log.info("routine")
    log.warning("worth a look")
    assert [line["event"] for line in lines(out)] == ["worth a look"]


def test_configuring_again_replaces_the_handler_instead_of_adding_one(
    configure: Configure,
) -> None:
    configure(fmt="json")
    out = configure(fmt="json")
    logging.getLogger("purchasing").warning("once")
    assert len(lines(out)) == 1
    assert [h.get_name() for h in logging.getLogger().handlers].count(HANDLER) == 1


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"LOG_LEVEL": "verbose"}, "LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR, CRIT"),
        ({"LOG_FORMAT": "xml"}, "LOG_FORMAT must be auto .*, json or console, not 'xml'"),
    ],
)
def test_unusable_log_settings_are_refused_with_a_clear_message(
    env: dict[str, str], message: str
) -> None:
    with pytest.raises(SettingsError, match=message):
        Settings.from_env({"SECRET_KEY": "k", "VAR_DIR": "var", **env})


def test_log_settings_default_to_info_and_auto_and_ignore_case() -> None:
    made = Settings.from_env({"SECRET_KEY": "k", "VAR_DIR": "var"})
    assert (made.log_level, made.log_format) == ("INFO", "auto")
    made = Settings.from_env({"SECRET_KEY": "k", "VAR_DIR": "var", "LOG_LEVEL": "debug"})
    assert made.log_level == "DEBUG"


async def served_once(request_id: str | None) -> tuple[str, str, str]:
    """One request through `RequestId`: (the id the app saw, the header sent, the id after)."""
    seen: list[str] = []
    started: list[dict[str, Any]] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append(current_request_id())
        logging.getLogger("purchasing.web").info("handling")
        await send({"type": "http.response.start", "status": 204, "headers": []})

    async def send(message: Any) -> None:
        started.append(message)

    headers = [(b"x-request-id", request_id.encode())] if request_id is not None else []
    scope = {"type": "http", "method": "GET", "path": "/", "headers": headers}
    await RequestId(app)(scope, None, send)  # type: ignore[arg-type]
    sent = dict(started[0]["headers"])[b"x-request-id"].decode()
    return seen[0], sent, current_request_id()


async def test_a_request_id_is_bound_while_handling_echoed_and_unbound_after(
    configure: Configure,
) -> None:
    out = configure(fmt="json")
    seen, sent, after = await served_once(None)
    assert len(seen) == 16
    assert sent == seen
    assert after == ""
    assert lines(out)[0]["request_id"] == seen


@pytest.mark.parametrize(
    ("offered", "kept"),
    [
        ("abcdefgh-1234.X_y", True),
        ("short", False),
        ("x" * 65, False),
        ("has space-in-it", False),
        ('quote"injection', False),
    ],
)
async def test_an_offered_request_id_is_kept_only_when_it_is_safe(offered: str, kept: bool) -> None:
    seen, sent, _ = await served_once(offered)
    assert (seen == offered) is kept
    assert sent == seen
