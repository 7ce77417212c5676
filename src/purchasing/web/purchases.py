"""Index pages, the table fragment, detail pages and status changes."""

from __future__ import annotations

from typing import Any, cast
from urllib.parse import urlsplit

from litestar import Controller, MediaType, Request, Response, get, post
from litestar.di import NamedDependency, Provide
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.plugins.flash import flash
from litestar.plugins.htmx import HTMXRequest
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Redirect, Template
from litestar.utils.empty import value_or_default
from litestar.utils.scope.state import ScopeState

from purchasing import i18n
from purchasing.domain.actor import Actor
from purchasing.domain.money import parse_int
from purchasing.domain.statuses import Kind, RuleError, Status
from purchasing.i18n import N_, _
from purchasing.live.hub import Hub
from purchasing.services.detail import deleted_purchase, purchase_detail
from purchasing.services.errors import Conflict, NotFound
from purchasing.services.listing import (
    PAGE_SIZES,
    TableQuery,
    get_row,
    list_purchases,
    row_of,
)
from purchasing.services.purchases import delete_purchase
from purchasing.services.status import StaleVersion, change_status
from purchasing.web.fragments import (
    CSRF_INPUT,
    CSRF_PLACEHOLDER,
    FragmentCache,
    etag,
    with_token,
)
from purchasing.web.guards import DELETE, READ
from purchasing.web.responses import (
    VARY_HTMX,
    changes,
    client_details,
    echo_mark,
    live_page,
    safe_next,
)


def provide_kind(kind: FromPath[str]) -> Kind:
    try:
        return Kind(kind)
    except ValueError:
        raise NotFoundException(f"There is no {kind!r} purchase module.") from None


class PurchaseController(Controller):
    path = "/purchases/{kind:str}"
    dependencies = {"purchase_kind": Provide(provide_kind, sync_to_thread=False)}

    @get("/", name="purchase_index", guards=[READ])
    async def index(
        self, request: HTMXRequest, purchase_kind: NamedDependency[Kind]
    ) -> Template | Response[str]:
        """The page, or for htmx only its table: the one URL of the table fragment, which the
        filters, the paging and sorting links and the live refreshes all ask for."""
        if request.htmx:
            return await _table_fragment(request, purchase_kind)
        response = await live_page(request, "purchases/index.html.j2")
        response.context.update(await _table_context(request, purchase_kind))
        response.headers.update(VARY_HTMX)
        return response

    @get("/{purchase_id:int}", name="purchase_detail", guards=[READ])
    async def detail(
        self, request: HTMXRequest, purchase_kind: NamedDependency[Kind], purchase_id: FromPath[int]
    ) -> Template:
        """The live page, or for htmx only its live part (what the page morphs in when the
        purchase changes). A purchase deleted since says by whom and when: 410 for the page,
        200 for htmx, which swaps it in."""
        actor: Actor = request.user
        context: dict[str, Any] = {"kind": purchase_kind, "purchase_id": purchase_id}
        page = None if request.htmx else await live_page(request, "purchases/detail.html.j2")
        try:
            context["detail"] = await purchase_detail(purchase_kind, purchase_id, actor)
            fragment, status_code = "purchases/_detail.html.j2", 200
        except NotFound:
            gone = await deleted_purchase(purchase_kind, purchase_id, actor)
            if gone is None:
                raise
            context["gone"] = gone
            fragment, status_code = "purchases/_detail_deleted.html.j2", 410
        if page is None:
            return Template(fragment, context=context, headers=VARY_HTMX)
        page.context.update(context)
        page.status_code = status_code
        page.headers.update(VARY_HTMX)
        return page

    @post("/{purchase_id:int}/status", name="purchase_status", guards=[READ])
    async def change(
        self, request: HTMXRequest, purchase_kind: NamedDependency[Kind], purchase_id: FromPath[int]
    ) -> Template | Redirect:
        """Apply one status move; htmx gets the row back, plain forms a redirect."""
        form = await request.form()
        actor: Actor = request.user
        message, level, code, shown = await _apply_move(
            request, purchase_kind, purchase_id, form, actor
        )
        if not request.htmx:
            flash(request, message, category=level)
            back = str(form.get("next", "")) or _referer_path(request)
            return Redirect(safe_next(back, request), status_code=303, headers=VARY_HTMX)
        number = parse_int(str(form.get("number", ""))) or 0
        row = (
            await row_of(purchase_kind, actor, number, shown)
            if shown
            else await get_row(purchase_kind, purchase_id, actor, number)
        )
        if row is None:
            raise NotFound(N_("No %(kind)s purchase %(id)s."), kind=purchase_kind, id=purchase_id)
        context = {"kind": purchase_kind, "row": row, "notice": {"level": level, "text": message}}
        return Template(
            "purchases/_row.html.j2", context=context, status_code=code, headers=VARY_HTMX
        )

    @post("/{purchase_id:int}/delete", name="purchase_delete", guards=[DELETE])
    async def delete(
        self,
        request: Request[Actor, Any, Any],
        purchase_kind: NamedDependency[Kind],
        purchase_id: FromPath[int],
    ) -> Redirect:
        form = await request.form()
        version = str(form.get("version", ""))
        try:
            invoice = await delete_purchase(
                changes(request),
                purchase_kind,
                purchase_id,
                _version(version),
                request.user,
                created_field(form),
            )
        except Conflict as conflict:
            flash(request, str(conflict), category="error")
            url = request.app.route_reverse(
                "purchase_detail", kind=purchase_kind.value, purchase_id=purchase_id
            )
            return Redirect(url, status_code=303)
        flash(request, _("%(invoice)s was deleted.", invoice=invoice), category="success")
        return Redirect(
            request.app.route_reverse("purchase_index", kind=purchase_kind.value), status_code=303
        )


async def _table_fragment(request: HTMXRequest, kind: Kind) -> Response[str]:
    """The table fragment, rendered once per distinct view and event, 304 when the page already
    has it. `X-Event-Id` is the newest event the page has seen: a process that has not read that
    far yet reads first, so it never answers with an older table."""
    hub: Hub = request.app.state.hub
    cache: FragmentCache = request.app.state.fragments
    await hub.catch_up(parse_int(request.headers.get("x-event-id", "")) or 0)
    query = TableQuery.from_params(kind, request.query_params)
    view = (
        kind.value,
        query.query_string(),
        request.user.grant,
        i18n.current(),
        hub.known_id,
        cache.generation,
    )
    token = value_or_default(ScopeState.from_scope(request.scope).csrf_token, "")
    headers = {"ETag": etag(view, token), "Cache-Control": "private, no-cache", **VARY_HTMX}
    if headers["ETag"] in request.headers.get("if-none-match", ""):
        cache.stats.not_modified += 1
        return Response(content="", status_code=304, headers=headers)

    async def render() -> str:
        context = {
            **await _table_context(request, kind, query),
            "request": request,
            "csrf_input": CSRF_INPUT.format(CSRF_PLACEHOLDER),
        }
        engine = cast(JinjaTemplateEngine, request.app.template_engine)
        return str(engine.get_template("purchases/_table.html.j2").render(**context))

    body = with_token(await cache.get(view, render), token)
    return Response(content=body, media_type=MediaType.HTML, headers=headers)


async def _apply_move(
    request: Request[Any, Any, Any], kind: Kind, purchase_id: int, form: Any, actor: Actor
) -> tuple[str, str, int, dict[str, Any]]:
    """(message, level, HTTP status, the purchase's row as it now is if the move read it) for
    one attempted move."""
    version = str(form.get("version", ""))
    try:
        target = Status(str(form.get("status", "")))
    except ValueError:
        return _("Choose a status to move to."), "error", 422, {}
    if parse_int(version) is None:
        return _("The form lost its version; reload the page and try again."), "error", 422, {}
    ip, agent = client_details(request)
    try:
        notes = str(form.get("notes", ""))
        change = await change_status(
            changes(request),
            kind,
            purchase_id,
            target,
            _version(version),
            notes,
            actor,
            ip,
            agent,
            echo=echo_mark(request),
            created=created_field(form),
        )
    except RuleError as error:
        return str(error), "error", 422, {}
    except StaleVersion as error:
        return str(error), "error", 409, {}
    values = {"invoice": change.invoice_number, "status": target.label}
    if change.duplicate:
        return _("%(invoice)s is already %(status)s.", **values), "success", 200, change.shown
    return _("%(invoice)s is now %(status)s.", **values), "success", 200, change.shown


async def _table_context(
    request: Request[Actor, Any, Any], kind: Kind, query: TableQuery | None = None
) -> dict[str, Any]:
    """What the table fragment renders from; the query is read from the URL unless given."""
    if query is None:
        query = TableQuery.from_params(kind, request.query_params)
    return {
        "kind": kind,
        "page": await list_purchases(kind, query, request.user),
        "page_sizes": PAGE_SIZES,
    }


def _referer_path(request: Request[Any, Any, Any]) -> str:
    """Where a plain form came from, as a local path (safe_next rejects anything else)."""
    referer = urlsplit(request.headers.get("referer", ""))
    if referer.netloc and referer.netloc != request.url.netloc:
        return ""
    return referer.path + (f"?{referer.query}" if referer.query else "")


def created_field(form: Any) -> str:
    """The creation stamp of the purchase a form was opened on; "" from a page made before
    forms carried it."""
    return str(form.get("created", "")).strip()


def _version(text: str) -> int:
    """The version a form was rendered with; -1 (matching nothing) when it is not a number."""
    value = parse_int(text)
    return -1 if value is None else value
