"""uvicorn, made to end open event streams at once on SIGTERM instead of waiting for them, and its
`--workers` to leave the shared metrics when they end. The details of uvicorn it relies on are in
`contract.py`."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
from pathlib import Path
from types import FrameType

import uvicorn
from prometheus_client import multiprocess as shared_metrics_files
from uvicorn.supervisors import ChangeReload, Multiprocess, multiprocess

from purchasing.metrics import METRICS_DIR_ENV
from purchasing.serving.front import Front

APP = "purchasing.serving:create_served_app"
# Streams end themselves on the signal; anything still open after this is cancelled.
GRACEFUL_TIMEOUT_S = 1
# Connections waiting to be accepted: a restart cuts thousands of streams, which come back at
# once (the kernel caps it at net.core.somaxconn; uvicorn's default is 2,048).
ACCEPT_BACKLOG = 8192


class GracefulServer(uvicorn.Server):
    """On the signal it stops listening at once, then ends the open streams: a page that
    reconnects as soon as its stream ends finds the next server (or a refusal it retries), not
    this one on its way out (uvicorn itself closes its listeners only at its next tick)."""

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        self.serving_loop = asyncio.get_running_loop()
        await super().startup(sockets)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        loop = getattr(self, "serving_loop", None)
        if loop is not None:
            loop.call_soon_threadsafe(self.stop_listening)
        front = self.front()
        if front is not None:
            front.close_streams_threadsafe()
        super().handle_exit(sig, frame)

    def stop_listening(self) -> None:
        for server in self.servers:
            server.close()

    def front(self) -> Front | None:
        """The app this server runs, behind whatever middleware uvicorn put around it."""
        app = getattr(self.config, "loaded_app", None)
        while app is not None and not isinstance(app, Front):
            app = getattr(app, "app", None)
        return app


class GracefulWorker(multiprocess.Process):
    """A worker process of `--workers N` running the graceful server."""

    @property
    def server(self) -> uvicorn.Server:
        if self._server is None:
            self._server = GracefulServer(config=self.config)
        return self._server

    def join(self) -> None:
        """The supervisor waits for a worker that ended (or that it killed, hung) before starting
        another: its live gauges, open streams among them, leave the metrics' sums now, even
        when it could not say so itself."""
        super().join()
        if os.environ.get(METRICS_DIR_ENV) and self.pid is not None:
            shared_metrics_files.mark_process_dead(self.pid)  # type: ignore[no-untyped-call]


def shared_metrics(directory: Path) -> None:
    """Start the workers' metrics afresh in `directory` (the workers inherit the setting)."""
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    os.environ[METRICS_DIR_ENV] = str(directory)


def serve(
    host: str,
    port: int,
    reload: bool = False,
    trusted_proxies: str = "",
    workers: int = 1,
    metrics_dir: Path | None = None,
) -> None:
    """`trusted_proxies` (addresses or networks, never every address: settings refuse that) may
    set the client address and scheme through X-Forwarded-For and X-Forwarded-Proto: behind a
    TLS proxy, cookies are then Secure.
    With `workers` > 1, that many processes share the port (the broker connects them) and
    their metrics (in `metrics_dir`)."""
    config = uvicorn.Config(
        APP,
        factory=True,
        host=host,
        port=port,
        reload=reload,
        workers=workers,
        proxy_headers=bool(trusted_proxies),
        forwarded_allow_ips=trusted_proxies or None,
        timeout_graceful_shutdown=GRACEFUL_TIMEOUT_S,
        backlog=ACCEPT_BACKLOG,
        log_config=None,  # its loggers, access log included, go through logs.py's formatter
    )
    server = GracefulServer(config)
    if config.should_reload:
        ChangeReload(config, target=server.run, sockets=[config.bind_socket()]).run()
    elif config.workers > 1:
        # uvicorn's supervisor builds its workers from this module-level name (a private detail:
        # pyproject pins uvicorn's minor version, and tests/integration/test_workers.py checks).
        multiprocess.Process = GracefulWorker  # type: ignore[misc]
        if metrics_dir is not None:
            shared_metrics(metrics_dir)
        Multiprocess(config, sockets=[config.bind_socket()]).run()
    else:
        server.run()
