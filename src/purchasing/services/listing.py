"""The index table: one page of purchases of a kind, searched, filtered and sorted."""

from __future__ import annotations

import functools
import math
import operator
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from piccolo.query import OrderByRaw

from purchasing.domain.actor import Actor
from purchasing.domain.money import parse_int
from purchasing.domain.permissions import Action, require
from purchasing.domain.statuses import Kind, Status, offered_moves
from purchasing.i18n import _
from purchasing.services.errors import ValidationFailed
from purchasing.services.purchases import MAX_ID, created_stamp
from purchasing.services.scope import purchase_filter
from purchasing.tables import FeedLine, Purchase

PAGE_SIZES = (10, 25, 50)
SORTS = ("date", "invoice", "total", "status")
MAX_QUERY_LENGTH = 100
MAX_PAGE = 1_000_000
STATUS_ORDER = (
    'CASE "purchase"."status" '
    + " ".join(f"WHEN '{s.value}' THEN {n}" for n, s in enumerate(Status))
    + " END"
)


@dataclass(frozen=True)
class TableQuery:
    """The view a clerk asked for; every field survives a reload through the URL."""

    page: int = 1
    per_page: int = PAGE_SIZES[0]
    sort: str = "date"
    direction: str = "desc"
    q: str = ""
    status: str = ""

    @classmethod
    def from_params(cls, kind: Kind, params: Mapping[str, str]) -> TableQuery:
        """The view asked for; a value that cannot be meant raises ValidationFailed saying why.
        Absent or empty parameters take their defaults, and a page past the end shows the last."""
        errors: dict[str, str] = {}
        default = cls()

        def pick(name: str, allowed: Iterable[str], message: str) -> str:
            value = params.get(name, "")
            if value and value not in allowed:
                errors[name] = message
            return value

        page = params.get("page", "")
        if page and not 0 < (parse_int(page) or 0) <= MAX_PAGE:
            errors["page"] = _("The page must be a whole number from 1 to %(most)s.", most=MAX_PAGE)
        sizes = [str(size) for size in PAGE_SIZES]
        per_page = pick(
            "per_page",
            sizes,
            _("Rows per page must be one of %(sizes)s.", sizes=", ".join(sizes)),
        )
        # The values a URL may give (sort keys, status values) are named as the URL spells them.
        sort = pick("sort", SORTS, _("Sort by one of: %(sorts)s.", sorts=", ".join(SORTS)))
        direction = pick("dir", ("asc", "desc"), _("The sort direction must be asc or desc."))
        statuses = [s.value for s in kind.statuses]
        status = pick(
            "status", statuses, _("Filter by one of: %(statuses)s.", statuses=", ".join(statuses))
        )
        q = params.get("q", "").strip()
        if len(q) > MAX_QUERY_LENGTH:
            errors["q"] = _("Search for at most %(count)s characters.", count=MAX_QUERY_LENGTH)
        elif "\x00" in q:  # PostgreSQL refuses it even as a query parameter
            errors["q"] = _("The search cannot contain a NUL character.")
        if errors:
            raise ValidationFailed(errors)
        return cls(
            page=parse_int(page) or default.page,
            per_page=int(per_page) if per_page else default.per_page,
            sort=sort or default.sort,
            direction=direction or default.direction,
            q=q,
            status=status,
        )

    def params(self, **changes: Any) -> dict[str, str]:
        """Query parameters that differ from the defaults, after applying `changes`."""
        query = replace(self, **changes)
        default = TableQuery()
        names = {
            "page": "page",
            "per_page": "per_page",
            "sort": "sort",
            "direction": "dir",
            "q": "q",
            "status": "status",
        }
        return {
            url_name: str(getattr(query, field))
            for field, url_name in names.items()
            if getattr(query, field) != getattr(default, field)
        }

    def query_string(self, **changes: Any) -> str:
        params = self.params(**changes)
        return "?" + urlencode(params) if params else ""

    def sorted_by(self, sort: str) -> str:
        """The query string for clicking a column header: toggle direction, back to page 1."""
        direction = "asc" if self.sort == sort and self.direction == "desc" else "desc"
        return self.query_string(sort=sort, direction=direction, page=1)


@dataclass(frozen=True)
class Row:
    number: int
    id: int
    invoice_number: str
    purchase_date: date
    supplier: str
    farm: str
    coop: str
    status: Status
    version: int
    grand_total: Decimal
    head_count: int
    price_per_head: Decimal
    moves: tuple[Status, ...]
    created: str  # its creation stamp, which its status control carries to name this purchase


@dataclass(frozen=True)
class TablePage:
    kind: Kind
    query: TableQuery
    rows: tuple[Row, ...]
    total: int

    @property
    def pages(self) -> int:
        return max(math.ceil(self.total / self.query.per_page), 1)

    @property
    def first_number(self) -> int:
        return (self.query.page - 1) * self.query.per_page + 1 if self.rows else 0

    @property
    def last_number(self) -> int:
        return self.first_number + len(self.rows) - 1 if self.rows else 0


def _where(kind: Kind, query: TableQuery, actor: Actor) -> Any:
    where: Any = Purchase.kind == kind.value
    scope = purchase_filter(actor)
    if scope is not None:
        where = where & scope
    if query.status:
        where = where & (Purchase.status == query.status)
    if query.q:
        columns = (
            Purchase.invoice_number,
            Purchase.supplier.name,
            Purchase.farm.name,
            Purchase.farm.code,
        )
        where = where & functools.reduce(
            operator.or_, (_contains(column, query.q) for column in columns)
        )
    return where


def _contains(column: Any, text: str) -> Any:
    """Case-insensitive substring: SQLite's LIKE ignores case already, PostgreSQL needs ILIKE."""
    pattern = f"%{text}%"
    return column.like(pattern) if column._meta.engine_type == "sqlite" else column.ilike(pattern)


def _order_column(query: TableQuery) -> Any:
    columns = {
        "date": Purchase.purchase_date,
        "invoice": Purchase.invoice_number,
        "total": Purchase.grand_total,
    }
    return columns.get(query.sort) or OrderByRaw(STATUS_ORDER)


async def list_purchases(kind: Kind, query: TableQuery, actor: Actor) -> TablePage:
    """One page of the table; a page past the end shows the last page."""
    require(actor.role, Action.READ, kind)
    where = _where(kind, query, actor)
    total = await Purchase.count().where(where)
    pages = max(math.ceil(total / query.per_page), 1)
    if query.page > pages:
        query = replace(query, page=pages)
    ascending = query.direction == "asc"
    select = _select(where).order_by(_order_column(query), ascending=ascending)
    rows = (
        await select.order_by(Purchase.id, ascending=ascending)
        .limit(query.per_page)
        .offset((query.page - 1) * query.per_page)
    )
    coops = await _feed_coops([r["id"] for r in rows]) if kind is Kind.FEED else {}
    first = (query.page - 1) * query.per_page + 1
    return TablePage(
        kind=kind,
        query=query,
        total=total,
        rows=tuple(
            _row(kind, actor, first + n, r, coops.get(r["id"], "")) for n, r in enumerate(rows)
        ),
    )


EXPORT_BATCH = 2000  # rows read at once for an export


async def every_row(
    kind: Kind, query: TableQuery, actor: Actor, batch: int = EXPORT_BATCH
) -> AsyncIterator[list[Row]]:
    """Every row of the view `query` asks for (its search, filter and sort; all pages) within
    the actor's scope, `batch` at a time, numbered from 1. Each batch is read on its own: rows
    that move while an export runs may show twice or not at all, as when paging by hand."""
    require(actor.role, Action.READ, kind)
    where = _where(kind, query, actor)
    ascending = query.direction == "asc"
    offset = 0
    while True:
        rows = (
            await _select(where)
            .order_by(_order_column(query), ascending=ascending)
            .order_by(Purchase.id, ascending=ascending)
            .limit(batch)
            .offset(offset)
        )
        if not rows:
            return
        coops = await _feed_coops([r["id"] for r in rows]) if kind is Kind.FEED else {}
        yield [
            _row(kind, actor, offset + n + 1, r, coops.get(r["id"], "")) for n, r in enumerate(rows)
        ]
        if len(rows) < batch:
            return
        offset += len(rows)


async def get_row(kind: Kind, purchase_id: int, actor: Actor, number: int) -> Row | None:
    """One row as the table shows it, e.g. to swap in after a status change."""
    if not 0 < purchase_id <= MAX_ID:
        return None
    where = _where(kind, TableQuery(), actor) & (Purchase.id == purchase_id)
    found = await _select(where).first()
    if found is None:
        return None
    coops = await _feed_coops([purchase_id]) if kind is Kind.FEED else {}
    return _row(kind, actor, number, found, coops.get(purchase_id, ""))


async def row_of(kind: Kind, actor: Actor, number: int, shown: dict[str, Any]) -> Row:
    """The row of a purchase already read with the columns `_select` reads (a status change
    reads them in its own transaction)."""
    coops = await _feed_coops([shown["id"]]) if kind is Kind.FEED else {}
    return _row(kind, actor, number, shown, coops.get(shown["id"], ""))


def _select(where: Any) -> Any:
    return Purchase.select(
        Purchase.id,
        Purchase.invoice_number,
        Purchase.purchase_date,
        Purchase.status,
        Purchase.version,
        Purchase.grand_total,
        Purchase.subtotal,
        Purchase.head_count,
        Purchase.created_at,
        Purchase.supplier.name.as_alias("supplier_name"),
        Purchase.farm.name.as_alias("farm_name"),
        Purchase.coop.name.as_alias("coop_name"),
    ).where(where)


def _row(kind: Kind, actor: Actor, number: int, r: dict[str, Any], feed_coops: str) -> Row:
    status = Status(r["status"])
    heads = int(r["head_count"])
    return Row(
        number=number,
        id=r["id"],
        invoice_number=r["invoice_number"],
        purchase_date=r["purchase_date"],
        supplier=r["supplier_name"],
        farm=r["farm_name"],
        coop=r["coop_name"] or feed_coops,
        status=status,
        version=r["version"],
        grand_total=Decimal(r["grand_total"]),
        head_count=heads,
        price_per_head=Decimal(r["subtotal"]) / heads if heads else Decimal(0),
        moves=tuple(offered_moves(kind, status, actor.role)),
        created=created_stamp(r["created_at"]),
    )


async def _feed_coops(purchase_ids: list[int]) -> dict[int, str]:
    """Feed lines name flocks; the table shows the coops those flocks live in."""
    if not purchase_ids:
        return {}
    lines = await FeedLine.select(
        FeedLine.purchase, FeedLine.flock._.coop._.name.as_alias("coop")
    ).where(FeedLine.purchase.is_in(purchase_ids))
    coops: dict[int, list[str]] = {}
    for line in lines:
        names = coops.setdefault(line["purchase"], [])
        if line["coop"] not in names:
            names.append(line["coop"])
    return {pid: ", ".join(sorted(names)) for pid, names in coops.items()}
