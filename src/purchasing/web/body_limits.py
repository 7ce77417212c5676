"""Request bodies are bounded before anything reads them, so one request cannot hold the event
loop that every live stream shares.

A body larger than its route allows (`MAX_BODY`, unless a route sets its own) is refused with 413
from its Content-Length alone, before a byte is read; one sent without a length is refused as soon
as it grows past the limit. A form of more fields than any real one has is refused with 400
before it is parsed, whether URL-encoded or multipart. Both run ahead of the CSRF check, which
parses the form."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.enums import ScopeType
from litestar.exceptions import ClientException
from litestar.exceptions.http_exceptions import RequestEntityTooLarge
from litestar.types import ASGIApp, Receive, Scope, Send

from purchasing.i18n import _

# The largest real form, an edit of 50 feed lines with its base and a note of 2,000 characters,
# is about 20 KB, and some 310 fields (measured by the tests); a note of 2,000 emoji adds 24 KB.
MAX_BODY = 128 * 1024
MAX_FIELDS = 1000
BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
URL_ENCODED = "application/x-www-form-urlencoded"


class TooManyFields(ClientException):
    """A form with more fields than any of the app's; nothing in it is read."""


class BodyLimits:
    """Pure ASGI middleware: refuses a body its route's limit (Litestar's
    `request_max_body_size`) cannot take, and counts a URL-encoded form's fields before anything
    parses it (`multipart_form_part_limit` bounds a multipart one's)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == ScopeType.HTTP and scope["method"] in BODY_METHODS:
            await _check(Request(scope, receive))
        await self.app(scope, receive, send)


async def _check(request: Request[Any, Any, Any]) -> None:
    limit = request.route_handler.resolve_request_max_body_size()
    if limit is not None and (request.content_length or 0) > limit:
        raise _too_large(limit)  # from the header alone: nothing is read
    if request.content_type[0] != URL_ENCODED:
        return
    try:
        body = await request.body()  # kept for the handler, which will not read it again
    except RequestEntityTooLarge:  # sent without a length, and longer than the limit
        raise _too_large(limit or 0) from None
    if body.count(b"&") >= MAX_FIELDS:
        raise TooManyFields(_("This form has more than %(most)s fields.", most=f"{MAX_FIELDS:,}"))


def _too_large(limit: int) -> RequestEntityTooLarge:
    return RequestEntityTooLarge(
        _("This request is larger than the %(most)s KB it may be.", most=limit // 1024)
    )
