"""Everything that knows the ASGI server the app runs on (uvicorn), behind one fence.

- `front.py`: the ASGI app `purchasing serve` runs, answering signed-in event streams ahead of
  Litestar (`create_served_app`);
- `chunks.py`: stream frames written straight to a uvicorn connection;
- `server.py`: uvicorn made to end open streams at once on SIGTERM, and `--workers`;
- `contract.py`: every private detail of uvicorn and Litestar relied upon, checked by the tests
  and at start-up.

`DIRECT_STREAMS=0` turns the fast path off: streams are then answered by Litestar's route and
written through the ASGI `send`, as under any other server (Hypercorn, the test client).
"""

from __future__ import annotations

from purchasing.serving.front import Front, create_served_app

__all__ = ["Front", "create_served_app"]
