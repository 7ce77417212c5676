"""What the clerk sees when something fails: a page, or for htmx a fragment shown in the page's
error banner (never a whole page inside a table cell)."""

from __future__ import annotations

import logging
import secrets
from typing import Any
from urllib.parse import quote

from litestar import Request, Response
from litestar.exceptions import HTTPException, NotAuthorizedException, PermissionDeniedException
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from purchasing.domain.permissions import Forbidden
from purchasing.i18n import _
from purchasing.logs import current_request_id
from purchasing.presentation.errors import EXPIRED_FORM, NOT_FOUND, error_context
from purchasing.services.errors import NotFound, ValidationFailed
from purchasing.web.responses import VARY_HTMX

log = logging.getLogger("purchasing.errors")
# Where an htmx request's error goes, whatever the request was about to swap.
BANNER = {"HX-Retarget": "#error-banner", "HX-Reswap": "innerHTML"}


def to_login(request: Request[Any, Any, Any], _: NotAuthorizedException) -> Response[Any]:
    """Send a visitor without a session to the login page; htmx follows `HX-Redirect`."""
    login = request.app.route_reverse("login")
    if request.url.path == request.app.route_reverse("events"):
        return Response(content=b"", status_code=401)  # an EventSource cannot follow to a page
    if request.headers.get("hx-request"):
        return Response(content=b"", status_code=401, headers={"HX-Redirect": login, **VARY_HTMX})
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return Redirect(f"{login}?next={quote(target, safe='')}", status_code=303, headers=VARY_HTMX)


def not_found(request: Request[Any, Any, Any], error: NotFound) -> Response[Any]:
    return _page(request, 404, _(NOT_FOUND))


def bad_request(request: Request[Any, Any, Any], error: ValidationFailed) -> Response[Any]:
    """Input no form catches, such as a table's query parameters."""
    return _page(request, 400, " ".join(error.errors.values()))


def forbidden(request: Request[Any, Any, Any], error: Forbidden) -> Response[Any]:
    return _page(request, 403, str(error))


def http_error(request: Request[Any, Any, Any], error: HTTPException) -> Response[Any]:
    if isinstance(error, NotAuthorizedException):
        return to_login(request, error)
    if isinstance(error, PermissionDeniedException):
        # Our own refusals raise Forbidden (domain/permissions.py), with their reason: what
        # Litestar refuses itself with a 403 is a missing or wrong CSRF token.
        return _page(request, 403, _(EXPIRED_FORM))
    if error.status_code == 404:
        return _page(request, 404, _(NOT_FOUND))
    # Its own headers too: a 503's Retry-After says when to come back.
    return _page(request, error.status_code, error.detail, headers=error.headers or {})


def unexpected(request: Request[Any, Any, Any], error: Exception) -> Response[Any]:
    """A plain message with a reference to quote: the request id, which every log line of the
    request carries, the traceback's included."""
    reference = current_request_id() or secrets.token_hex(8)
    log.error(
        "unhandled error",
        exc_info=error,
        extra={"reference": reference, "method": request.method, "path": request.url.path},
    )
    message = _(
        "Something went wrong. If it happens again, quote reference %(reference)s.",
        reference=reference,
    )
    return _page(request, HTTP_500_INTERNAL_SERVER_ERROR, message, reference)


def _page(
    request: Request[Any, Any, Any],
    status: int,
    message: str,
    reference: str = "",
    headers: dict[str, str] | None = None,
) -> Response[Any]:
    context = error_context(status, message, reference)
    if request.headers.get("hx-request"):
        return Template(
            "errors/_error.html.j2",
            context=context,
            status_code=status,
            headers={**BANNER, **VARY_HTMX, **(headers or {})},
        )
    return Template(
        "errors/error.html.j2",
        context=context,
        status_code=status,
        headers={**VARY_HTMX, **(headers or {})},
    )
