"""GET /purchases/{kind}/export.xlsx and export.csv: the index's view (its query parameters), every
page of it, within the viewer's scope, as a file to download.

The file is written to a temporary file first, a batch of rows at a time: the rows are read
from the database on the event loop, each batch is written on a worker thread (XlsxWriter in
constant-memory mode, or the csv module), so neither the loop nor memory carries the whole
export. The file is then sent in chunks, also read on a worker thread, and closed when its
response ends, however it ends (`ClosedAfterResponse`).

Each person has one export at a time in a process, from its start until its file is closed; a
second gets a 429 with Retry-After. At most `EXPORTS_AT_ONCE` exports are written at once per
process, whoever asks; more get a 503 with Retry-After.

Who gets what: signed out, the login page (as every page); a view's parameters that cannot be
meant, a 400 saying why (as the index); another farm's or company's purchases are never in
it: the rows come from the same scoped query as the table.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

from litestar import Controller, Request, get
from litestar.di import NamedDependency, Provide
from litestar.exceptions import HTTPException
from litestar.response import Stream
from litestar.status_codes import HTTP_429_TOO_MANY_REQUESTS, HTTP_503_SERVICE_UNAVAILABLE
from litestar.types import ASGIApp, Receive, Scope, Send

from purchasing.domain.actor import Actor
from purchasing.domain.money import WIB
from purchasing.domain.statuses import Kind
from purchasing.i18n import N_, _
from purchasing.presentation.exports import CsvRows, XlsxFile, file_name
from purchasing.services.listing import TableQuery, every_row
from purchasing.web.guards import READ
from purchasing.web.purchases import provide_kind

EXPORTS_AT_ONCE = 2
BUSY_RETRY_S = 5
CHUNK = 64 * 1024
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
STILL_YOURS = N_(
    "Your previous export is still being written or downloaded; wait for it to finish."
)
# The sheet's name in an xlsx export.
SHEET_TITLES = {
    Kind.SUPPLY: N_("Supply purchases"),
    Kind.FEED: N_("Feed purchases"),
    Kind.LIVESTOCK: N_("Livestock purchases"),
}


class ExportSlots:
    """The exports of this process. One at a time per person, from its start until its file is
    closed, so a person exporting in a loop holds one slot however fast they ask. At most
    `limit` being written at once, whoever asks: the writing is what takes the worker threads
    and the event loop's time from the pages."""

    def __init__(self, limit: int = EXPORTS_AT_ONCE) -> None:
        self.limit = limit
        self.writing = 0
        self.people: set[int] = set()

    def take(self, person: int) -> None:
        """Refuse at once a person's second export, or one past the limit."""
        if person in self.people:
            raise _busy(HTTP_429_TOO_MANY_REQUESTS, _(STILL_YOURS))
        if self.writing >= self.limit:
            raise _busy(
                HTTP_503_SERVICE_UNAVAILABLE,
                _("Other exports are being written; try again in a few seconds."),
            )
        self.people.add(person)
        self.writing += 1

    def written(self) -> None:
        self.writing -= 1

    def done(self, person: int) -> None:
        self.people.discard(person)


def _busy(status: int, message: str) -> HTTPException:
    return HTTPException(
        status_code=status, detail=message, headers={"Retry-After": str(BUSY_RETRY_S)}
    )


class ExportFile:
    """A written export, read a chunk at a time on a worker thread as its response asks, and
    closed once its last chunk is read, before that chunk is sent: whoever has received the
    whole file finds its person's slot free. It may also be closed at any moment from the event
    loop, even before the thread opening it is done, which then closes it at once."""

    def __init__(self, on_close: Callable[[], None]) -> None:
        self._on_close = on_close
        # A close while a worker thread reads waits for that read, rather than closing the
        # descriptor under it.
        self._lock = threading.Lock()
        self._handle: BinaryIO | None = None
        self._closed = False
        self.size = 0
        self.unread = 0

    def open(self, path: Path) -> None:
        handle = path.open("rb")
        with self._lock:
            if self._closed:
                handle.close()
                return
            self._handle = handle
            self.size = self.unread = os.fstat(handle.fileno()).st_size

    def read(self) -> bytes:
        with self._lock:
            chunk = self._handle.read(CHUNK) if self._handle else b""
            self.unread -= len(chunk)
            return chunk

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            if self._handle is not None:
                self._handle.close()
                self._handle = None
        self._on_close()

    def __aiter__(self) -> ExportFile:
        return self

    async def __anext__(self) -> bytes:
        chunk = await asyncio.to_thread(self.read)
        if self.unread <= 0:
            self.close()
        if not chunk:
            raise StopAsyncIteration
        return chunk


# Where an export's request keeps what must be closed when its response ends.
CLOSING = "purchasing.export_closing"


class ClosedAfterResponse:
    """Closes what an export leaves open (its file, and so its person's slot) once its response
    has ended, however it ended: sent, its client gone before or during the body, or never sent
    (an error after the handler). Litestar's Stream only cancels the task reading a response
    whose client has gone: the iterator itself it leaves to the garbage collector."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        with ExitStack() as closing:
            scope[CLOSING] = closing  # type: ignore[literal-required]
            await self.app(scope, receive, send)


class ExportController(Controller):
    path = "/purchases/{kind:str}"
    dependencies = {"purchase_kind": Provide(provide_kind, sync_to_thread=False)}
    middleware = [ClosedAfterResponse]

    @get("/export.csv", name="purchase_export_csv", guards=[READ])
    async def csv(
        self, request: Request[Actor, Any, Any], purchase_kind: NamedDependency[Kind]
    ) -> Stream:
        writer = CsvRows(purchase_kind)

        async def write(path: Path, batches: AsyncIterator[list[Any]]) -> None:
            out = await asyncio.to_thread(path.open, "wb")
            try:
                await asyncio.to_thread(out.write, writer.header())
                async for batch in batches:
                    await asyncio.to_thread(writer.write, out, batch)
            finally:
                await asyncio.to_thread(out.close)

        return await _export(request, purchase_kind, "csv", "text/csv; charset=utf-8", write)

    @get("/export.xlsx", name="purchase_export_xlsx", guards=[READ])
    async def xlsx(
        self, request: Request[Actor, Any, Any], purchase_kind: NamedDependency[Kind]
    ) -> Stream:
        async def write(path: Path, batches: AsyncIterator[list[Any]]) -> None:
            title = _(SHEET_TITLES[purchase_kind])
            book = await asyncio.to_thread(XlsxFile, path, purchase_kind, title)
            try:
                async for batch in batches:
                    await asyncio.to_thread(book.rows, batch)
            finally:
                await asyncio.to_thread(book.close)

        return await _export(request, purchase_kind, "xlsx", XLSX, write)


async def _export(
    request: Request[Actor, Any, Any],
    kind: Kind,
    extension: str,
    media_type: str,
    write: Callable[[Path, AsyncIterator[list[Any]]], Any],
) -> Stream:
    query = TableQuery.from_params(kind, request.query_params)  # a 400 saying why, if need be
    slots: ExportSlots = request.app.state.exports
    closing: ExitStack = request.scope[CLOSING]  # type: ignore[literal-required]
    person = request.user.id
    slots.take(person)
    file = ExportFile(on_close=lambda: slots.done(person))
    closing.callback(file.close)
    directory: Path | None = None
    try:
        directory = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="export-"))
        path = directory / f"export.{extension}"
        await write(path, every_row(kind, query, request.user))
        # Opened, then removed with its directory: the open file lives as long as the response
        # needs it, and nothing is left behind whatever becomes of the response.
        await asyncio.to_thread(file.open, path)
    finally:
        slots.written()
        if directory is not None:
            await asyncio.to_thread(shutil.rmtree, directory, True)
    name = file_name(kind, datetime.now(WIB).date(), extension)
    return Stream(
        file,
        media_type=media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Content-Length": str(file.size),
            "Cache-Control": "private, no-store",
        },
    )
