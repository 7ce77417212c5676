"""A minimal HTTP/1.1 client over asyncio streams: keep-alive, Content-Length and chunked bodies.

Enough for logging in, polling, status changes and triggers; the SSE clients of the load
generator use a lighter protocol class of their own (see loadgen.py)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from urllib.parse import urlencode

HOST = "127.0.0.1"
MAX_HEADER_BYTES = 64 * 1024
MAX_BODY_BYTES = 16 * 1024 * 1024


class HttpError(RuntimeError):
    pass


@dataclass
class Response:
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    wire_bytes: int  # status line, headers, body and chunk framing, as received

    def header(self, name: str) -> str | None:
        name = name.lower()
        return next((value for key, value in self.headers if key == name), None)

    def set_cookies(self) -> dict[str, str]:
        cookies = {}
        for key, value in self.headers:
            if key == "set-cookie":
                pair = value.split(";", 1)[0]
                cookie_name, _, cookie_value = pair.partition("=")
                cookies[cookie_name.strip()] = cookie_value.strip()
        return cookies


@dataclass
class Connection:
    """One persistent connection to 127.0.0.1:`port`, reopened when the server closes it."""

    port: int
    timeout_s: float = 30.0
    bytes_sent: int = 0
    _reader: asyncio.StreamReader | None = field(default=None, repr=False)
    _writer: asyncio.StreamWriter | None = field(default=None, repr=False)

    async def request(
        self,
        method: str,
        path: str,
        headers: dict[str, str] | None = None,
        form: dict[str, str] | None = None,
        body: bytes = b"",
    ) -> Response:
        if form is not None:
            body = urlencode(form).encode()
            headers = {"content-type": "application/x-www-form-urlencoded", **(headers or {})}
        lines = [f"{method} {path} HTTP/1.1", f"host: {HOST}:{self.port}"]
        lines += [f"{key}: {value}" for key, value in (headers or {}).items()]
        if body or method in {"POST", "PUT"}:
            lines.append(f"content-length: {len(body)}")
        raw = ("\r\n".join(lines) + "\r\n\r\n").encode() + body
        return await asyncio.wait_for(self._exchange(raw), self.timeout_s)

    async def open(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        """The connection, opened now unless it is open already."""
        reader, writer = self._reader, self._writer
        if reader is None or writer is None or writer.is_closing():
            reader, writer = await asyncio.open_connection(HOST, self.port)
            self._reader, self._writer = reader, writer
        return reader, writer

    async def _exchange(self, raw: bytes) -> Response:
        """Send `raw` and read the answer. A kept-alive connection the server has meanwhile
        closed (uvicorn closes idle ones after 5 s) answers nothing at all: the request never
        reached the app, so it is sent once more on a new connection."""
        reused = self._writer is not None and not self._writer.is_closing()
        try:
            return await self._send(raw)
        except (asyncio.IncompleteReadError, ConnectionError) as error:
            nothing = isinstance(error, ConnectionError) or not error.partial
            if not (reused and nothing):
                raise
        return await self._send(raw)

    async def _send(self, raw: bytes) -> Response:
        reader, writer = await self.open()
        writer.write(raw)
        self.bytes_sent += len(raw)
        try:
            response = await read_response(reader)
        except (asyncio.IncompleteReadError, ConnectionError):
            self.close()
            raise
        if (response.header("connection") or "").lower() == "close":
            self.close()
        return response

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self._reader = self._writer = None


async def read_response(reader: asyncio.StreamReader) -> Response:
    head = await reader.readuntil(b"\r\n\r\n")
    if len(head) > MAX_HEADER_BYTES:
        raise HttpError("response headers too large")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    parts = status_line.split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1."):
        raise HttpError(f"not an HTTP response: {status_line!r}")
    headers = []
    for line in header_lines:
        if line:
            key, _, value = line.partition(":")
            headers.append((key.strip().lower(), value.strip()))
    response = Response(int(parts[1]), headers, b"", len(head))
    length = response.header("content-length")
    if (response.header("transfer-encoding") or "").lower() == "chunked":
        response.body, framed = await _read_chunked(reader)
        response.wire_bytes += framed
    elif length is not None:
        if int(length) > MAX_BODY_BYTES:
            raise HttpError("response body too large")
        response.body = await reader.readexactly(int(length))
        response.wire_bytes += len(response.body)
    return response


async def _read_chunked(reader: asyncio.StreamReader) -> tuple[bytes, int]:
    chunks: list[bytes] = []
    framed = 0
    while True:
        size_line = await reader.readuntil(b"\r\n")
        size = int(size_line.split(b";", 1)[0], 16)
        framed += len(size_line)
        if size == 0:
            framed += len(await reader.readuntil(b"\r\n"))
            return b"".join(chunks), framed
        if framed > MAX_BODY_BYTES:
            raise HttpError("response body too large")
        chunk = await reader.readexactly(size + 2)
        chunks.append(chunk[:-2])
        framed += len(chunk)


@dataclass(frozen=True)
class Login:
    """A logged-in session of the app: the Cookie header and the CSRF token for POSTs."""

    cookie: str
    csrf: str

    def headers(self) -> dict[str, str]:
        return {"cookie": self.cookie}

    def post_headers(self) -> dict[str, str]:
        return {"cookie": self.cookie, "x-csrftoken": self.csrf, "hx-request": "true"}


async def login(port: int, username: str, password: str) -> Login:
    """GET /login for the CSRF cookie, then POST the form; returns the session's cookies."""
    connection = Connection(port)
    try:
        page = await connection.request("GET", "/login")
        cookies = page.set_cookies()
        csrf = cookies.get("csrftoken", "")
        if page.status != 200 or not csrf:
            raise HttpError(f"GET /login answered {page.status} without a csrftoken cookie")
        cookie = "; ".join(f"{k}={v}" for k, v in cookies.items())
        form = {"username": username, "password": password}
        answer = await connection.request(
            "POST", "/login", {"cookie": cookie, "x-csrftoken": csrf}, form=form
        )
        cookies.update(answer.set_cookies())
        if answer.status != 303 or "session" not in cookies:
            raise HttpError(f"POST /login answered {answer.status} without a session cookie")
        return Login("; ".join(f"{k}={v}" for k, v in cookies.items()), csrf)
    finally:
        connection.close()
