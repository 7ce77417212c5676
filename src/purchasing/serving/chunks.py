"""Stream frames written straight to the connection, past the ASGI `send` chain.

Every frame of an open stream would otherwise pass through each middleware's `send` wrapper and
uvicorn's checks: a few coroutines per stream per event, most of the fan-out's cost. Once the
response has started (headers, cookies and security headers all went the ASGI way), a frame
needs nothing but HTTP/1.1 chunk framing, so when the server is uvicorn's httptools protocol the
hub writes the chunk to its transport itself (it takes any `live.subscriber.DirectWriter`).
Anything else (another server, the test client, a paused transport) keeps the ASGI `send`, which
waits for the client as it should.

It reads a few attributes of uvicorn's `RequestResponseCycle`, listed in `contract.py`.
"""

from __future__ import annotations

from typing import Any

from uvicorn.protocols.http.httptools_impl import RequestResponseCycle


class ChunkWriter:
    """Writes chunks to one httptools connection whose response has started."""

    __slots__ = ("cycle", "transport")

    def __init__(self, cycle: Any) -> None:
        self.cycle = cycle
        self.transport = cycle.transport

    @classmethod
    def of(cls, send: Any) -> ChunkWriter | None:
        """The writer for the connection whose server-side ASGI `send` this is, if it is one of
        uvicorn's httptools connections."""
        cycle = getattr(send, "__self__", None)
        if not isinstance(cycle, RequestResponseCycle):
            return None
        return cls(cycle)

    @property
    def gone(self) -> bool:
        return bool(self.cycle.disconnected or self.transport.is_closing())

    @property
    def ready(self) -> bool:
        """True when a chunk can go now: connected, chunked, and the client keeping up."""
        cycle = self.cycle
        return bool(
            cycle.response_started
            and cycle.chunked_encoding
            and not cycle.response_complete
            and not cycle.flow.write_paused
            and not self.gone
        )

    def write(self, body: bytes) -> None:
        self.transport.write(b"%x\r\n%s\r\n" % (len(body), body))
