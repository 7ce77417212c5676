"""GET /_gallery: every partial in every declared state, with sample data, for designers.

Registered only when DEBUG is on (elsewhere the paths are 404). It needs no session: it shows
sample data only, and its pages render as a signed-out visitor's (no navigation, no stream).
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any, cast

from jinja2 import Environment
from litestar import Controller, Request, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Template
from litestar.utils.empty import value_or_default
from litestar.utils.scope.state import ScopeState
from markupsafe import Markup

from purchasing.gallery import Partial, checks, discover, page
from purchasing.web.fragments import CSRF_INPUT


class GalleryController(Controller):
    path = "/_gallery"
    opt = {"exclude_from_auth": True}
    include_in_schema = False

    @get("/", name="gallery")
    async def index(self, request: Request[Any, Any, Any]) -> Template:
        entries = checks.index(_partials(request), _env(request))
        return Template("gallery/index.html.j2", context={"entries": entries})

    @get("/{partial:path}", name="gallery_partial")
    async def partial(self, request: Request[Any, Any, Any], partial: FromPath[Path]) -> Template:
        """One partial in each of its states; 500 when any fails (shown in its state's place)."""
        found = {p.name: p for p in _partials(request)}.get(str(partial).strip("/"))
        if found is None:
            raise NotFoundException(f"No partial {partial}.")
        shown = page(_env(request), found, _provided(request))
        status = 500 if shown.failed else 200
        return Template("gallery/partial.html.j2", context={"page": shown}, status_code=status)


def _env(request: Request[Any, Any, Any]) -> Environment:
    return cast(JinjaTemplateEngine, request.app.template_engine).engine


def _partials(request: Request[Any, Any, Any]) -> list[Partial]:
    return discover(request.app.state.settings.templates_dir)


def _provided(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """What Litestar adds to a template's context: the request, and the CSRF input for forms."""
    token = value_or_default(ScopeState.from_scope(request.scope).csrf_token, "")
    return {"request": request, "csrf_input": Markup(CSRF_INPUT.format(html.escape(token)))}  # noqa: S704
