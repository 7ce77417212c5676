"""Every private detail of uvicorn and Litestar the app relies on, in one list.

The fast path (`chunks.py`, `front.py`) and the graceful server (`server.py`) read a few things
neither project promises to keep. pyproject pins both to a minor version; this list is checked
by `tests/unit/test_contract.py`, which names what is missing after an upgrade, and when the app
starts: should anything the fast path needs be gone, it serves streams the plain way (as with
`DIRECT_STREAMS=0`) and logs what it missed, rather than slowing down or failing unseen.
"""

from __future__ import annotations

import importlib
import inspect
from dataclasses import dataclass


@dataclass(frozen=True)
class Detail:
    """`owner` (a module, or `module:Class`) has `name`; `assigned` when it is an attribute the
    class's own methods set on each instance rather than one of the class; `why` says what uses
    it."""

    owner: str
    name: str
    why: str
    assigned: bool = False
    fast_path: bool = True  # the direct stream writes need it (else: the graceful server, ...)

    def __str__(self) -> str:
        return f"{self.owner}.{self.name}"

    def holds(self) -> bool:
        module_name, _, class_name = self.owner.partition(":")
        try:
            owner: object = importlib.import_module(module_name)
        except ImportError:
            return False
        if class_name:
            owner = getattr(owner, class_name, None)
            if owner is None:
                return False
        if not self.assigned:
            return hasattr(owner, self.name)
        try:
            source = inspect.getsource(owner)  # type: ignore[arg-type]
        except (OSError, TypeError):
            return False
        return f"self.{self.name} " in source or f"self.{self.name}:" in source


CYCLE = "uvicorn.protocols.http.httptools_impl:RequestResponseCycle"
DETAILS = (
    Detail(CYCLE, "send", "a stream's ASGI send is this bound method: its cycle is found by it"),
    Detail(CYCLE, "transport", "chunks are written to it", assigned=True),
    Detail(CYCLE, "flow", "its write_paused says whether the client keeps up", assigned=True),
    Detail(CYCLE, "disconnected", "a gone client is not written to", assigned=True),
    Detail(CYCLE, "response_started", "chunks go only after the head", assigned=True),
    Detail(CYCLE, "response_complete", "nothing goes after the end", assigned=True),
    Detail(CYCLE, "chunked_encoding", "the framing the writes add", assigned=True),
    Detail(
        "uvicorn.protocols.http.flow_control:FlowControl",
        "write_paused",
        "set while the transport's buffer is full",
        assigned=True,
    ),
    Detail(
        "uvicorn.supervisors.multiprocess",
        "Process",
        "the supervisor builds its workers from this module-level name (server.GracefulWorker)",
        fast_path=False,
    ),
    Detail(
        "uvicorn.supervisors.multiprocess:Process",
        "_server",
        "a worker's server, built on first use (server.GracefulWorker.server)",
        assigned=True,
        fast_path=False,
    ),
    Detail(
        "uvicorn.config:Config",
        "loaded_app",
        "where the graceful server finds the front to end its streams",
        assigned=True,
        fast_path=False,
    ),
    Detail(
        "uvicorn.server:Server",
        "servers",
        "its listeners, closed at the signal (server.GracefulServer.stop_listening)",
        assigned=True,
        fast_path=False,
    ),
    Detail(
        "uvicorn.middleware.proxy_headers:ProxyHeadersMiddleware",
        "app",
        "the front behind it (TRUSTED_PROXIES)",
        assigned=True,
        fast_path=False,
    ),
    Detail(
        "litestar._asgi.utils",
        "wrap_in_exception_handler",
        "HTTP metrics count the status an error is answered with (web/metrics.py)",
        fast_path=False,
    ),
)


def missing(*, fast_path_only: bool = False) -> list[Detail]:
    """The details this uvicorn and Litestar no longer have."""
    return [d for d in DETAILS if (d.fast_path or not fast_path_only) and not d.holds()]
