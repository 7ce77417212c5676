"""Every process's log lines: one formatter on the root logger, so the app's loggers, uvicorn's and
Piccolo's all come out alike. JSON lines for machines (stderr not a terminal), readable lines in a
terminal. Lines logged while a request is handled carry its `request_id`; secrets never show."""

from __future__ import annotations

import logging
import re
import sys
from typing import Any, TextIO

import structlog
from structlog.types import EventDict, Processor, WrappedLogger

HANDLER = "purchasing"
REQUEST_ID = "request_id"
MASK = "[redacted]"
SECRET_KEY = re.compile(
    r"pass(word|wd|phrase)|token|secret|session|cookie|authori[sz]ation|csrf|api_?key", re.I
)
# `name=value` or `name: value` inside free text (a message, a traceback, a URL's query).
SECRET_IN_TEXT = re.compile(
    r"\b(pass(?:word|wd|phrase)|\w*token|secret\w*|session(?:_?id)?|cookie|authorization|csrf\w*)"
    r"""(["']?\s*[=:]\s*["']?)((?:bearer|basic)\s+)?[^\s"',;&]+""",
    re.I,
)
ACCESS_FIELDS = ("client", "method", "path", "http_version", "status")
SHARED: list[Processor] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]


def current_request_id() -> str:
    """The id of the request being handled, as sent in `X-Request-ID`; empty outside one."""
    return str(structlog.contextvars.get_contextvars().get(REQUEST_ID, ""))


def configure_logging(level: str = "INFO", fmt: str = "auto", stream: TextIO | None = None) -> None:
    """Route every logger through one structured handler on `stream` (stderr); safe to repeat."""
    stream = stream or sys.stderr
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == HANDLER]:
        root.removeHandler(old)
    handler = logging.StreamHandler(stream)
    handler.set_name(HANDLER)
    handler.setFormatter(_formatter(fmt, stream))
    root.addHandler(handler)
    root.setLevel(level.upper())
    logging.captureWarnings(True)  # warnings too, as lines of the same shape
    structlog.configure(
        processors=[*SHARED, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
    )


def _formatter(fmt: str, stream: TextIO) -> structlog.stdlib.ProcessorFormatter:
    is_tty = stream.isatty()
    renderer: Processor
    if fmt == "console" or (fmt == "auto" and is_tty):
        renderer = structlog.dev.ConsoleRenderer(
            colors=is_tty,
            sort_keys=False,
            # Not rich's traceback: it prints local variables, passwords among them.
            exception_formatter=structlog.dev.plain_traceback,
        )
    else:
        renderer = structlog.processors.JSONRenderer()
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[structlog.stdlib.ExtraAdder(), *SHARED, _stdlib_fields],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            redact,
            _ordered,
            renderer,
        ],
        pass_foreign_args=True,
    )


def redact(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    """Mask the values of secret-sounding keys (nested too) and `secret=value` in text."""
    return {key: _masked(key, value) for key, value in event_dict.items()}


def _masked(key: Any, value: Any) -> Any:
    if isinstance(key, str) and SECRET_KEY.search(key) and value not in (None, ""):
        return MASK
    if isinstance(value, dict):
        return {k: _masked(k, v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_masked(None, v) for v in value]
    if isinstance(value, str):
        return SECRET_IN_TEXT.sub(lambda m: f"{m[1]}{m[2]}{MASK}", value)
    return value


def _stdlib_fields(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    """uvicorn's access line as fields too. Dropped: uvicorn's coloured copy of the message, and
    the copies another handler's formatter may have left on the record."""
    args = event_dict.pop("positional_args", ())
    for copy in ("color_message", "message", "asctime"):
        event_dict.pop(copy, None)
    record = event_dict.get("_record")
    if record is not None and record.name == "uvicorn.access" and len(args) == 5:
        event_dict.update(zip(ACCESS_FIELDS, args, strict=True))
    return event_dict


def _ordered(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    head = ("timestamp", "level", "logger", "event", REQUEST_ID)
    return {**{k: event_dict.pop(k) for k in head if k in event_dict}, **event_dict}
