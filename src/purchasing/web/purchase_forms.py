"""Create and edit forms; htmx re-renders the form to add or remove lines and refresh choices."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency, Provide
from litestar.exceptions import ValidationException
from litestar.params import FromPath
from litestar.plugins.flash import flash
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Redirect, Template

from purchasing.domain.actor import Actor
from purchasing.domain.money import WIB, format_datetime, parse_int
from purchasing.domain.statuses import Kind, is_editable
from purchasing.i18n import N_, _
from purchasing.presentation import edits
from purchasing.services.catalog import load_catalog
from purchasing.services.detail import deleted_purchase
from purchasing.services.editing import Base, Unsaved, open_edit, save_edit, what_changed
from purchasing.services.errors import Conflict, NotFound, StaleEdit, ValidationFailed
from purchasing.services.purchase_form import PurchaseForm
from purchasing.services.purchases import create_purchase
from purchasing.web.guards import CREATE, UPDATE
from purchasing.web.purchases import created_field, provide_kind
from purchasing.web.responses import VARY_HTMX, changes, client_details, echo_mark, live_page

NOT_SAVED = N_("Nothing was saved; what you typed is still below, to copy.")


class PurchaseFormController(Controller):
    path = "/purchases/{kind:str}"
    dependencies = {"purchase_kind": Provide(provide_kind, sync_to_thread=False)}

    @get("/new", name="purchase_new", guards=[CREATE])
    async def new(self, request: HTMXRequest, purchase_kind: NamedDependency[Kind]) -> Template:
        today = _today()
        return await _render(request, PurchaseForm.blank(purchase_kind, today), purchase_id=None)

    @post("/new", name="purchase_create", guards=[CREATE])
    async def create(
        self, request: HTMXRequest, purchase_kind: NamedDependency[Kind]
    ) -> Template | Redirect:
        form, action = await _read(request, purchase_kind)
        if action != "save":
            return await _render(request, form, purchase_id=None)
        ip, agent = client_details(request)
        try:
            purchase_id = await create_purchase(
                changes(request), form, request.user, ip, agent, echo=echo_mark(request)
            )
        except ValidationFailed as failure:
            form.errors.update(failure.errors)
            return await _render(request, form, purchase_id=None, status_code=422)
        flash(request, _("Purchase saved as Draft."), category="success")
        return _to_detail(request, purchase_kind, purchase_id)

    @get("/{purchase_id:int}/edit", name="purchase_edit", guards=[UPDATE])
    async def edit(
        self, request: HTMXRequest, purchase_kind: NamedDependency[Kind], purchase_id: FromPath[int]
    ) -> Template:
        """The edit page, live: the stream's cursor is taken before the purchase is read, so any
        change after the form was read reaches its stale banner."""
        page = await live_page(request, "purchases/form.html.j2", read_first=False)
        editing = await open_edit(purchase_kind, purchase_id, request.user)
        form = editing.form
        if not is_editable(editing.status):
            form.errors["form"] = _(
                "A purchase that is %(status)s can no longer be edited.",
                status=editing.status.label,
            )
        return await _render(
            request,
            form,
            purchase_id,
            editing.version,
            editing.base,
            page=page,
            created=editing.created,
        )

    @post("/{purchase_id:int}/edit", name="purchase_update", guards=[UPDATE])
    async def update(
        self, request: HTMXRequest, purchase_kind: NamedDependency[Kind], purchase_id: FromPath[int]
    ) -> Template | Redirect:
        """Save an edit. When someone saved the purchase after the form was opened, their save
        and this one are merged (services/editing.py); a conflict comes back as a 409 form that
        keeps everything typed and marks each conflicting field."""
        form, action = await _read(request, purchase_kind)
        data = await request.form()
        version = parse_int(str(data.get("version", ""))) or 0
        base = Base.decode(str(data.get("base", "")))
        created = created_field(data)
        if action != "save":
            return await _render(request, form, purchase_id, version, base, created=created)
        actor: Actor = request.user
        try:
            result = await save_edit(
                changes(request), form, base, purchase_id, version, actor, created
            )
        except ValidationFailed:
            return await _render(
                request, form, purchase_id, version, base, status_code=422, created=created
            )
        except NotFound:
            gone = await deleted_purchase(purchase_kind, purchase_id, actor)
            if gone is None:
                raise
            deleted = _(
                "%(name)s deleted this purchase at %(when)s.",
                name=gone.deleted_by,
                when=format_datetime(gone.deleted_at),
            )
            form.errors["form"] = f"{deleted} {_(NOT_SAVED)}"
            return await _render(
                request, form, purchase_id, version, base, status_code=409, created=created
            )
        except StaleEdit as stale:  # a form without a base to merge against
            reload = _("Reload the page to see the current purchase.")
            form.errors["form"] = f"{stale} {reload}"
            return await _render(
                request, form, purchase_id, version, base, status_code=409, created=created
            )
        except Conflict as closed:
            form.errors["form"] = f"{closed} {_(NOT_SAVED)}"
            return await _render(
                request, form, purchase_id, version, base, status_code=409, created=created
            )
        if isinstance(result, Unsaved):
            return await _render_unsaved(request, result, purchase_id)
        message = _("Changes saved.")
        if result.merged_with is not None:
            message = edits.merged_notice(result.merged_with.changed_by, result.taken)
        flash(request, message, category="success")
        return _to_detail(request, purchase_kind, purchase_id)

    @post("/{purchase_id:int}/edit/changes", name="purchase_edit_changes", guards=[UPDATE])
    async def changes_since(
        self, request: HTMXRequest, purchase_kind: NamedDependency[Kind], purchase_id: FromPath[int]
    ) -> Template:
        """The stale banner of an edit form opened at `version` with `base`: who changed what
        since, or that the purchase is gone; hidden while nothing changed."""
        data = await request.form()
        base = Base.decode(str(data.get("base", "")))
        version = parse_int(str(data.get("version", "")))
        created = created_field(data)
        if base is None or version is None:
            raise ValidationException(
                _("This form carries no version to compare; reload the page.")
            )
        context: dict[str, Any] = {"stale": None, "gone": None}
        try:
            context["stale"] = await what_changed(
                purchase_kind, purchase_id, request.user, base, version, created
            )
        except NotFound:
            context["gone"] = await deleted_purchase(purchase_kind, purchase_id, request.user)
            if context["gone"] is None:
                raise
        return Template("purchases/_stale_banner.html.j2", context=context, headers=VARY_HTMX)


async def _read(request: Request[Actor, Any, Any], kind: Kind) -> tuple[PurchaseForm, str]:
    """The submitted form after applying a line action; the action is `save` for a real submit."""
    data = await request.form()
    form = PurchaseForm.from_fields(kind, ((k, str(v)) for k, v in data.multi_items()))
    action = str(data.get("action", "save"))
    if action == "add_line":
        form.add_line()
    elif action.startswith("remove_line:"):
        index = parse_int(action.removeprefix("remove_line:"))
        if index is not None:
            form.remove_line(index)
    elif action != "save":
        action = "refresh"
    return form, action


async def _render(
    request: HTMXRequest,
    form: PurchaseForm,
    purchase_id: int | None,
    version: int = 0,
    base: Base | None = None,
    status_code: int = 200,
    page: Template | None = None,
    created: str = "",
) -> Template:
    """Only the form when htmx asked for it, else the whole page (live: `page`, or one built
    now). An edit form carries its version, the base a later save merges against, and the
    creation stamp of the purchase it was opened on."""
    context = {
        "kind": form.kind,
        "form": form,
        "catalog": await load_catalog(request.user, form.kind),
        "purchase_id": purchase_id,
        "version": version,
        "base": base.encode() if base is not None else "",
        "created": created,
    }
    if request.htmx:
        return Template(
            "purchases/_form.html.j2", context=context, status_code=status_code, headers=VARY_HTMX
        )
    if page is None:
        page = await live_page(request, "purchases/form.html.j2", read_first=False)
    page.context.update(context)
    page.status_code = status_code
    page.headers.update(VARY_HTMX)
    return page


async def _render_unsaved(request: HTMXRequest, unsaved: Unsaved, purchase_id: int) -> Template:
    """A merged form the clerk must decide on: conflicts marked (409), or errors only the
    merged form has (422)."""
    who, when = unsaved.current.changed_by, unsaved.current.changed_at
    form = unsaved.form
    if unsaved.conflicts:
        catalog = await load_catalog(request.user, form.kind)
        form.errors.update(edits.conflict_errors(unsaved.conflicts, catalog, who))
        form.errors["form"] = edits.conflict_intro(who, when, len(unsaved.conflicts))
    else:
        form.errors["form"] = _(
            "%(name)s saved this purchase at %(when)s while you were editing; merged with your "
            "changes, it needs the corrections marked below. Nothing was saved.",
            name=who,
            when=format_datetime(when),
        )
    code = 409 if unsaved.conflicts else 422
    return await _render(
        request,
        form,
        purchase_id,
        unsaved.version,
        unsaved.base,
        status_code=code,
        created=unsaved.current.created,
    )


def _to_detail(request: Request[Any, Any, Any], kind: Kind, purchase_id: int) -> Redirect:
    url = request.app.route_reverse("purchase_detail", kind=kind.value, purchase_id=purchase_id)
    return Redirect(url, status_code=303)


def _today() -> date:
    return datetime.now(WIB).date()
