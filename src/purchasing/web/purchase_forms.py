"""Create and edit forms; htmx re-renders the form to add or remove lines and refresh choices."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath
from litestar.plugins.flash import flash
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Redirect, Template

from purchasing.domain.actor import Actor
from purchasing.domain.money import WIB, parse_int
from purchasing.domain.statuses import Kind, is_editable
from purchasing.services.catalog import load_catalog
from purchasing.services.detail import edit_form
from purchasing.services.errors import Conflict, ValidationFailed
from purchasing.services.purchase_form import PurchaseForm
from purchasing.services.purchases import create_purchase, update_purchase
from purchasing.web.guards import CREATE, UPDATE
from purchasing.web.purchases import provide_kind
from purchasing.web.responses import VARY_HTMX, changes, client_details, echo_mark


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
        flash(request, "Purchase saved as Draft.", category="success")
        return _to_detail(request, purchase_kind, purchase_id)

    @get("/{purchase_id:int}/edit", name="purchase_edit", guards=[UPDATE])
    async def edit(
        self, request: HTMXRequest, purchase_kind: NamedDependency[Kind], purchase_id: FromPath[int]
    ) -> Template:
        form, version, status = await edit_form(purchase_kind, purchase_id, request.user)
        if not is_editable(status):
            form.errors["form"] = f"A purchase that is {status.label} can no longer be edited."
        return await _render(request, form, purchase_id=purchase_id, version=version)

    @post("/{purchase_id:int}/edit", name="purchase_update", guards=[UPDATE])
    async def update(
        self, request: HTMXRequest, purchase_kind: NamedDependency[Kind], purchase_id: FromPath[int]
    ) -> Template | Redirect:
        form, action = await _read(request, purchase_kind)
        raw_version = str((await request.form()).get("version", ""))
        version = parse_int(raw_version) or 0
        if action != "save":
            return await _render(request, form, purchase_id=purchase_id, version=version)
        try:
            await update_purchase(changes(request), form, purchase_id, version, request.user)
        except ValidationFailed:
            return await _render(
                request, form, purchase_id=purchase_id, version=version, status_code=422
            )
        except Conflict as conflict:
            form.errors["form"] = f"{conflict} Reload the page to see the current purchase."
            return await _render(
                request, form, purchase_id=purchase_id, version=version, status_code=409
            )
        flash(request, "Changes saved.", category="success")
        return _to_detail(request, purchase_kind, purchase_id)


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
    status_code: int = 200,
) -> Template:
    """The whole page, or only the form when htmx asked for it."""
    context = {
        "kind": form.kind,
        "form": form,
        "catalog": await load_catalog(request.user, form.kind),
        "purchase_id": purchase_id,
        "version": version,
    }
    if request.htmx:
        return Template(
            "purchases/_form.html.j2", context=context, status_code=status_code, headers=VARY_HTMX
        )
    return Template(
        "purchases/form.html.j2", context=context, status_code=status_code, headers=VARY_HTMX
    )


def _to_detail(request: Request[Any, Any, Any], kind: Kind, purchase_id: int) -> Redirect:
    url = request.app.route_reverse("purchase_detail", kind=kind.value, purchase_id=purchase_id)
    return Redirect(url, status_code=303)


def _today() -> date:
    return datetime.now(WIB).date()
