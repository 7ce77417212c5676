"""uvicorn, made to end open event streams at once on SIGTERM instead of waiting for them."""

from __future__ import annotations

from types import FrameType

import uvicorn
from uvicorn.supervisors import ChangeReload

from purchasing.live.hub import RUNNING

APP = "purchasing.app:create_app"
# Streams end themselves on the signal; anything still open after this is cancelled.
GRACEFUL_TIMEOUT_S = 1


class GracefulServer(uvicorn.Server):
    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        for hub in list(RUNNING):
            hub.close_streams_threadsafe()
        super().handle_exit(sig, frame)


def serve(host: str, port: int, reload: bool = False, trusted_proxies: str = "") -> None:
    """`trusted_proxies` (addresses, or `*`) may set the client address and scheme through
    X-Forwarded-For and X-Forwarded-Proto: behind a TLS proxy, cookies are then Secure."""
    config = uvicorn.Config(
        APP,
        factory=True,
        host=host,
        port=port,
        reload=reload,
        proxy_headers=bool(trusted_proxies),
        forwarded_allow_ips=trusted_proxies or None,
        timeout_graceful_shutdown=GRACEFUL_TIMEOUT_S,
    )
    server = GracefulServer(config)
    if config.should_reload:
        ChangeReload(config, target=server.run, sockets=[config.bind_socket()]).run()
    else:
        server.run()
