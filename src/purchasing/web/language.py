"""The language each request is worded in, and the switch that changes it.

The language is, in order: the one a signed-in user chose (kept on their account), the one this
browser chose (a cookie, for before signing in), the first that the browser's Accept-Language
names among those the app speaks, and else the DEFAULT_LANGUAGE setting. Every `_` while the
request is handled words its text in it (purchasing/i18n.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from litestar import Request, post
from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie
from litestar.enums import ScopeType
from litestar.exceptions import HTTPException
from litestar.response import Redirect
from litestar.types import ASGIApp, Receive, Scope, Send

from purchasing import i18n
from purchasing.domain.actor import Actor
from purchasing.services.users import actor_of_session, remember_language
from purchasing.web.responses import safe_next

COOKIE = "language"
COOKIE_MAX_AGE_S = 365 * 24 * 3600
SCOPE_KEY = "purchasing.language"
MAX_FIELD = 256
E = TypeVar("E", bound=Exception)
R = TypeVar("R")


def language_of(
    connection: ASGIConnection[Any, Any, Any, Any], default: str, user: object = None
) -> str:
    """The language to word `connection`'s response in (see the module's docstring): `default`
    is DEFAULT_LANGUAGE, `user` the signed-in user when known but not yet in the scope (a
    stream answered ahead of Litestar)."""
    known = connection.scope.get(SCOPE_KEY)
    if known:
        return str(known)
    user = user or connection.scope.get("user")
    if isinstance(user, Actor) and user.language in i18n.LANGUAGES:
        return user.language
    chosen = connection.cookies.get(COOKIE, "")
    if chosen in i18n.LANGUAGES:
        return chosen
    return i18n.from_accept_language(connection.headers.get("accept-language", ""), default)


class Language:
    """Pure ASGI middleware, inside authentication (it reads the user): the request is handled
    and its response rendered in the request's language."""

    def __init__(self, app: ASGIApp, default: str) -> None:
        self.app = app
        self.default = default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        language = language_of(ASGIConnection(scope), self.default)
        scope[SCOPE_KEY] = language  # type: ignore[literal-required]
        with i18n.use(language):
            await self.app(scope, receive, send)


@post("/language", name="choose_language", exclude_from_auth=True)
async def choose_language(request: Request[Any, Any, Any]) -> Redirect:
    """Read the app in the language the switch sends, from now on: in this browser, and on the
    account of whoever is signed in. Back to the page it was sent from."""
    form = await request.form()
    language = str(form.get("language", ""))[:MAX_FIELD]
    if language not in i18n.LANGUAGES:
        raise HTTPException(
            status_code=400,
            detail=i18n._(
                "Choose a language the app speaks: %(languages)s.",
                languages=", ".join(i18n.LANGUAGES.values()),
            ),
        )
    actor = await actor_of_session(request.session, request.app.state.actors)
    if actor is not None:
        await remember_language(actor, language, request.app.state.actors)
    i18n.activate(language)  # the rest of this request, its flash and error pages included
    back = safe_next(str(form.get("next", ""))[:MAX_FIELD], request)
    cookie = Cookie(
        key=COOKIE,
        value=language,
        max_age=COOKIE_MAX_AGE_S,
        httponly=True,
        samesite="lax",
    )
    return Redirect(back, status_code=303, cookies=[cookie])


def worded(
    handler: Callable[[Request[Any, Any, Any], E], R],
) -> Callable[[Request[Any, Any, Any], E], R]:
    """An exception handler that words its page in the request's language even when Litestar
    calls it outside the app's middleware (an address no route answers)."""

    def handle(request: Request[Any, Any, Any], error: E) -> R:
        if SCOPE_KEY not in request.scope:
            default = request.app.state.settings.default_language
            i18n.activate(language_of(request, default))
        return handler(request, error)

    return handle
