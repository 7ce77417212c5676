"""Everything that knows the ASGI server the app runs on (uvicorn): the front that answers event
streams ahead of Litestar, stream frames written straight to the connection, and the graceful
server."""
