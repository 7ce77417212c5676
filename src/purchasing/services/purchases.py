"""Creating and editing purchases; each verb is one transaction."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any, cast

from piccolo.columns import Column
from piccolo.engine.sqlite import SQLiteEngine

from purchasing.db import current_engine, violates_unique
from purchasing.domain.actor import Actor
from purchasing.domain.permissions import Action, require
from purchasing.domain.statuses import Kind, Status, is_deletable, is_editable
from purchasing.i18n import N_, _
from purchasing.live.events import ChangeAction
from purchasing.services.catalog import Catalog, load_catalog
from purchasing.services.changes import Changes
from purchasing.services.errors import Conflict, NotFound, StaleEdit, ValidationFailed
from purchasing.services.purchase_events import purchase_changed
from purchasing.services.purchase_form import PurchaseForm
from purchasing.services.purchase_validation import (
    CleanGoodsLine,
    CleanLivestockLine,
    CleanPurchase,
    validate,
)
from purchasing.services.scope import purchase_filter
from purchasing.tables import FeedLine, LivestockLine, Purchase, StatusHistory, SupplyLine

MAX_ID = 2**63 - 1  # the largest id either database can hold
GOODS_TABLES: dict[Kind, type[SupplyLine] | type[FeedLine]] = {
    Kind.SUPPLY: SupplyLine,
    Kind.FEED: FeedLine,
}


async def create_purchase(
    changes: Changes,
    form: PurchaseForm,
    actor: Actor,
    client_ip: str = "",
    user_agent: str = "",
    catalog: Catalog | None = None,
    echo: str = "",
) -> int:
    """Save a new purchase as `draft` with its lines and first history row; return its id."""
    require(actor.role, Action.CREATE, form.kind)
    clean = await _validated(form, actor, catalog)
    async with _invoice_kept_unique(clean), changes.changing() as change:
        await _check_invoice_free(clean, None)
        now = datetime.now(UTC)
        purchase = Purchase(
            {
                **_header_values(clean),
                Purchase.kind: clean.kind.value,
                Purchase.status: Status.DRAFT.value,
                Purchase.version: 1,
                Purchase.created_by: actor.id,
                Purchase.updated_by: actor.id,
                Purchase.created_at: now,
                Purchase.updated_at: now,
            }
        )
        await purchase.save()
        await _insert_lines(clean, purchase.id)
        await StatusHistory(
            purchase=purchase.id,
            from_status=None,
            to_status=Status.DRAFT.value,
            notes="Created",
            changed_by=actor.id,
            changed_at=now,
            client_ip=client_ip[:64],
            user_agent=user_agent[:255],
        ).save()
        created = {
            "id": purchase.id,
            "invoice_number": clean.invoice_number,
            "farm": clean.farm_id,
            "company": clean.company_id,
            "supplier": clean.supplier_id,
        }
        change.emit(
            await purchase_changed(
                ChangeAction.CREATED, clean.kind, created, None, Status.DRAFT, 1, actor, now, echo
            )
        )
    return int(purchase.id)


async def update_purchase(
    changes: Changes,
    form: PurchaseForm,
    purchase_id: int,
    expected_version: int,
    actor: Actor,
    created: str = "",
) -> int:
    """Replace an open purchase's fields and lines unless someone changed it meanwhile, and tell
    the open tables (an event with the status unchanged). Returns the new version.

    `created`: the purchase's stamp as the form was opened on it (`opened_on`)."""
    require(actor.role, Action.UPDATE, form.kind)
    clean = await _validated(form, actor)
    stale = StaleEdit(N_("Someone changed this purchase while you were editing it."))
    async with _invoice_kept_unique(clean), changes.changing() as change:
        current = await find_purchase(
            form.kind, purchase_id, actor, for_update=True, created=created
        )
        status = Status(current["status"])
        if current["version"] != expected_version:
            raise stale
        if not is_editable(status):
            raise Conflict(
                N_("A purchase that is %(status)s can no longer be edited."), status=status
            )
        await _check_invoice_free(clean, purchase_id)
        now = datetime.now(UTC)
        values = {
            **_header_values(clean),
            Purchase.version: Purchase.version + 1,
            Purchase.updated_by: actor.id,
            Purchase.updated_at: now,
        }
        updated = (
            await Purchase.update(cast(dict[Column | str, Any], values))
            .where((Purchase.id == purchase_id) & (Purchase.version == expected_version))
            .returning(Purchase.version)
        )
        if not updated:
            raise stale
        stored = await _delete_lines(form.kind, purchase_id)
        await _insert_lines(clean, purchase_id, keep_ids=stored)
        version = int(updated[0]["version"])
        edited = {
            **current,
            "invoice_number": clean.invoice_number,
            "farm": clean.farm_id,
            "company": clean.company_id,
            "supplier": clean.supplier_id,
        }
        change.emit(
            await purchase_changed(
                ChangeAction.EDITED, form.kind, edited, status, status, version, actor, now
            )
        )
    return version


def created_stamp(created_at: datetime) -> str:
    """A purchase's creation time as its forms carry it: UTC to the microsecond, spelt the same
    whichever database it was read from."""
    return created_at.astimezone(UTC).isoformat()


def opened_on(row: Mapping[str, Any], created: str) -> bool:
    """Whether `row` is the purchase a form was opened on. A form names its purchase by id and
    by creation stamp, since an id alone can come back on another purchase: a restored backup
    rewinds ids, and SQLite reused a deleted purchase's before its keys were AUTOINCREMENT.
    A form without the stamp (a page opened before forms carried it) is taken at its word."""
    return not created or created_stamp(row["created_at"]) == created


async def find_purchase(
    kind: Kind, purchase_id: int, actor: Actor, *, for_update: bool = False, created: str = ""
) -> dict[str, Any]:
    """The purchase's row if it exists, is of `kind`, the actor may see it and it is the
    purchase a form with `created` was opened on (`opened_on`); else NotFound, as for a
    purchase deleted since.

    `for_update` locks the row until the transaction ends, so concurrent writers queue on
    PostgreSQL; SQLite's write transactions already run one at a time."""
    require(actor.role, Action.READ, kind)
    if not 0 < purchase_id <= MAX_ID:
        raise NotFound(N_("No %(kind)s purchase %(id)s."), kind=kind, id=purchase_id)
    where = (Purchase.id == purchase_id) & (Purchase.kind == kind.value)
    clause = purchase_filter(actor)
    if clause is not None:
        where = where & clause
    query = Purchase.select().where(where)
    if for_update and not isinstance(current_engine(), SQLiteEngine):
        query = query.lock_rows()
    row = await query.first()
    if row is None or not opened_on(row, created):
        raise NotFound(N_("No %(kind)s purchase %(id)s."), kind=kind, id=purchase_id)
    return dict(row)


async def delete_purchase(
    changes: Changes,
    kind: Kind,
    purchase_id: int,
    expected_version: int,
    actor: Actor,
    created: str = "",
) -> str:
    """Delete a draft nobody changed meanwhile (ordered purchases are cancelled, not deleted) and
    tell the open tables; returns its invoice number. `created`: as for `update_purchase`."""
    require(actor.role, Action.DELETE, kind)
    async with changes.changing() as change:
        row = await find_purchase(kind, purchase_id, actor, for_update=True, created=created)
        status = Status(row["status"])
        if row["version"] != expected_version:
            raise Conflict(N_("Someone changed this purchase meanwhile; check it before deleting."))
        if not is_deletable(status):
            raise Conflict(
                N_("Only drafts can be deleted; this purchase is %(status)s. Cancel it instead."),
                status=status,
            )
        now = datetime.now(UTC)
        await Purchase.delete().where(Purchase.id == purchase_id)
        change.emit(
            await purchase_changed(
                ChangeAction.DELETED, kind, row, status, status, row["version"] + 1, actor, now
            )
        )
    return str(row["invoice_number"])


async def _validated(
    form: PurchaseForm, actor: Actor, catalog: Catalog | None = None
) -> CleanPurchase:
    clean = validate(form, catalog or await load_catalog(actor, form.kind))
    if clean is None:
        raise ValidationFailed(form.errors)
    return clean


@asynccontextmanager
async def _invoice_kept_unique(clean: CleanPurchase) -> AsyncIterator[None]:
    """Two clerks saving the same invoice at once both find it free; the database's unique
    index refuses the second, which gets the same message as if it had been checked first."""
    try:
        yield
    except Exception as error:
        if violates_unique(error, "purchase", "invoice_number"):
            raise ValidationFailed({"invoice_number": _invoice_taken(clean)}) from None
        raise


def _invoice_taken(clean: CleanPurchase) -> str:
    return _(
        "Invoice %(invoice)s is already recorded for %(kind)s.",
        invoice=clean.invoice_number,
        kind=clean.kind.noun,
    )


async def _check_invoice_free(clean: CleanPurchase, own_id: int | None) -> None:
    where = (
        (Purchase.company == clean.company_id)
        & (Purchase.kind == clean.kind.value)
        & (Purchase.invoice_number == clean.invoice_number)
    )
    if own_id is not None:
        where = where & (Purchase.id != own_id)
    if await Purchase.exists().where(where):
        raise ValidationFailed({"invoice_number": _invoice_taken(clean)})


def _header_values(clean: CleanPurchase) -> dict[Column, Any]:
    return {
        Purchase.company: clean.company_id,
        Purchase.invoice_number: clean.invoice_number,
        Purchase.do_number: clean.do_number,
        Purchase.purchase_date: clean.purchase_date,
        Purchase.farm: clean.farm_id,
        Purchase.coop: clean.coop_id,
        Purchase.supplier: clean.supplier_id,
        Purchase.expedition: clean.expedition_id,
        Purchase.expedition_fee: clean.expedition_fee,
        Purchase.notes: clean.notes,
        Purchase.subtotal: clean.subtotal,
        Purchase.tax_total: clean.tax_total,
        Purchase.grand_total: clean.grand_total,
        Purchase.head_count: clean.head_count,
    }


async def _delete_lines(kind: Kind, purchase_id: int) -> set[int]:
    """Delete the purchase's lines; returns their ids."""
    table = LivestockLine if kind is Kind.LIVESTOCK else GOODS_TABLES[kind]
    deleted = await table.delete().where(table.purchase == purchase_id).returning(table.id)
    return {row["id"] for row in deleted}


async def _insert_lines(
    clean: CleanPurchase, purchase_id: int, keep_ids: set[int] | frozenset[int] = frozenset()
) -> None:
    """Insert the lines; a line that replaces one of `keep_ids` (this purchase's, just deleted)
    keeps its id, so that an edit form opened before still knows it (services/merge.py). Any
    other id a form sends is taken as a new line (`_keeping_ids`)."""
    if clean.kind is Kind.LIVESTOCK:
        rows = [
            _livestock_row(purchase_id, n, line) for n, line in enumerate(clean.livestock_lines)
        ]
        await LivestockLine.insert(*_keeping_ids(rows, clean.livestock_lines, keep_ids))
        return
    table = GOODS_TABLES[clean.kind]
    goods: list[Any] = []
    for n, line in enumerate(clean.goods_lines):
        values: dict[str, Any] = {
            "purchase": purchase_id,
            "position": n,
            "item": line.item_id,
            "unit": line.unit_id,
            "quantity": line.quantity,
            "price_per_unit": line.price_per_unit,
            "converted_quantity": line.converted_quantity,
            "converted_unit": line.converted_unit_id,
            "price_per_converted_unit": line.price_per_converted_unit,
            "line_total": line.line_total,
        }
        if clean.kind is Kind.FEED:
            values["flock"] = line.flock_id
        goods.append(table(**values))
    await table.insert(*_keeping_ids(goods, clean.goods_lines, keep_ids))


def _keeping_ids(
    rows: list[Any],
    lines: Sequence[CleanGoodsLine | CleanLivestockLine],
    keep_ids: set[int] | frozenset[int],
) -> list[Any]:
    """Each of `keep_ids` goes to the first line that names it. A second line naming the same
    id, or a line naming an id that is not this purchase's (another purchase's line), is a new
    line with an id of its own: a form only sends such ids when tampered with or gone wrong."""
    unclaimed = set(keep_ids)
    for row, line in zip(rows, lines, strict=True):
        if line.line_id is not None and line.line_id in unclaimed:
            row.id = line.line_id
            unclaimed.remove(line.line_id)
    return rows


def _livestock_row(purchase_id: int, n: int, line: CleanLivestockLine) -> LivestockLine:
    return LivestockLine(
        purchase=purchase_id,
        position=n,
        strain=line.strain,
        head_count=line.head_count,
        price_given=line.price_given.value,
        price_per_head=line.price.per_head,
        price_total=line.price.total,
        weight_given=line.weight_given.value,
        weight_per_head_g=line.weight.per_head,
        weight_total_g=line.weight.total,
        tax_percent=line.tax_percent,
        tax_amount=line.tax_amount,
        line_total=line.line_total,
    )
