"""Sample data for the gallery's states: the demo's company, farms and partners, made into the view
models the app really renders (rows, table pages, forms, catalogs), through the same rules: the
moves a row offers come from the status rules, form errors from the validation.

Everything is fixed (one day, one clock time), so screenshots only change when a template does.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

from piccolo.columns import Varchar

from purchasing.domain.actor import Actor
from purchasing.domain.money import WIB
from purchasing.domain.permissions import Action, Forbidden, require
from purchasing.domain.roles import Role
from purchasing.domain.statuses import Kind, RuleError, Status, check_move, offered_moves
from purchasing.presentation.errors import error_context
from purchasing.services.catalog import Catalog, Choice, ItemChoice
from purchasing.services.demo_data import ITEMS, MAIN, PATHS, PREFIX, UNITS, USERS
from purchasing.services.errors import ValidationFailed
from purchasing.services.listing import Row, TablePage, TableQuery
from purchasing.services.purchase_form import PurchaseForm
from purchasing.services.purchase_validation import MAX_TOTAL, validate
from purchasing.services.purchases import created_stamp
from purchasing.services.status import StaleVersion
from purchasing.tables import Farm, Partner, Purchase

TODAY = date(2026, 11, 20)
NOW = datetime(2026, 11, 20, 14, 5, tzinfo=WIB)
COMPANY_ID = 1
FARMS = [name for _, name, _ in MAIN.farms]
SUPPLIERS = [name for _, name in MAIN.suppliers]
LONGEST_FARM = max(FARMS, key=len)
LONGEST_SUPPLIER = max(SUPPLIERS, key=len)
# Rupiah amounts from nothing to the most a purchase may total.
AMOUNTS = {
    "zero": Decimal(0),
    "typical": Decimal("12450000"),
    "billions": Decimal("1234567890"),
    "the most a purchase may total": MAX_TOTAL - Decimal("0.01"),
}


def actor(role: Role) -> Actor:
    """The demo's first user of `role` (an Operator sees farms F01 and F02)."""
    number, user = next((n, u) for n, u in enumerate(USERS, 1) if u.role is role)
    farms = frozenset(n + 1 for n, (code, _, _) in enumerate(MAIN.farms) if code in user.farms)
    company = None if role is Role.SUPER_ADMIN else COMPANY_ID
    return Actor(number, user.username, user.username.title(), role, company, farms)


def longest(text: str, column: Varchar, separator: str = " ") -> str:
    """`text` repeated up to the length `column` allows: the widest a cell can get."""
    length = column.length or len(text)
    repeated = separator.join([text] * (length // len(text) + 1))
    return repeated[:length].strip(separator + " ")


LONGEST_ALLOWED_FARM = longest(LONGEST_FARM, Farm.name)
LONGEST_ALLOWED_SUPPLIER = longest(LONGEST_SUPPLIER, Partner.name)
LONGEST_ALLOWED_INVOICE = longest("INV/DOC/2026/0001", Purchase.invoice_number, "-")


def invoice(kind: Kind, number: int) -> str:
    return f"{MAIN.invoice_prefix}/{PREFIX[kind]}/{TODAY.year}/{number:04d}"


def row(
    kind: Kind,
    status: Status = Status.DRAFT,
    *,
    role: Role = Role.MANAGER,
    number: int = 1,
    total: Decimal | None = None,
    supplier: str | None = None,
    farm: str | None = None,
    invoice_number: str | None = None,
) -> Row:
    """A table row as `listing` builds it, with the moves `role` is offered."""
    heads = 5000 * (1 + number % 3) if kind is Kind.LIVESTOCK else 0
    if total is None:
        total = Decimal(heads * 7200) if heads else Decimal(385000 * (1 + number % 7) * 5)
    coops = {Kind.SUPPLY: "", Kind.FEED: "Kandang 1, Kandang 2", Kind.LIVESTOCK: "Kandang 1"}
    return Row(
        number=number,
        id=number,
        invoice_number=invoice_number or invoice(kind, number),
        purchase_date=TODAY - timedelta(days=number % 30),
        supplier=supplier or SUPPLIERS[number % len(SUPPLIERS)],
        farm=farm or FARMS[number % len(FARMS)],
        coop=coops[kind],
        status=status,
        version=len(PATHS[status]) + 1,
        grand_total=total,
        head_count=heads,
        price_per_head=total / heads if heads else Decimal(0),
        moves=tuple(offered_moves(kind, status, role)),
        created=created_stamp(NOW - timedelta(days=number % 30)),
    )


def table(kind: Kind, total: int, query: TableQuery | None = None) -> TablePage:
    """One page of a table holding `total` purchases, statuses taking turns."""
    query = query or TableQuery()
    first = (query.page - 1) * query.per_page + 1
    numbers = range(first, min(first + query.per_page, total + 1))
    statuses = kind.statuses
    rows = tuple(row(kind, statuses[n % len(statuses)], number=n) for n in numbers)
    return TablePage(kind=kind, query=query, rows=rows, total=total)


def catalog(kind: Kind) -> Catalog:
    """What the demo's Administrator may pick on a `kind` form, labelled as `load_catalog` does:
    each farm has coops K01 and K02 with one flock each."""
    farms, coops, flocks = {}, {}, {}
    for f, (code, name, _) in enumerate(MAIN.farms, 1):
        farms[f] = Choice(f, f"{code} · {name}", company_id=COMPANY_ID)
        for k in (1, 2):
            n = 2 * f + k - 2
            coops[n] = Choice(n, f"K0{k} · Kandang {k}", farm_id=f)
            flocks[n] = Choice(n, f"{code}-K0{k}-A · Flock {code} Kandang {k} (K0{k})", farm_id=f)
    partners = [name for _, name in MAIN.suppliers + MAIN.expeditions]
    choices = {n: Choice(n, name, company_id=COMPANY_ID) for n, name in enumerate(partners, 1)}
    units = {code: n for n, (code, _) in enumerate(UNITS, 1)}
    items = {
        n: ItemChoice(
            n, f"{name} ({code})", COMPANY_ID, {units[u]: Decimal(v) for u, v in values.items()}
        )
        for n, (item_kind, code, name, _, values) in enumerate(ITEMS, 1)
        if item_kind is kind
    }
    return Catalog(
        farms=farms,
        coops=coops,
        flocks=flocks,
        suppliers={n: c for n, c in choices.items() if n <= len(MAIN.suppliers)},
        expeditions={n: c for n, c in choices.items() if n > len(MAIN.suppliers)},
        items=items,
        units={n: Choice(n, code) for code, n in units.items()},
    )


def form_context(
    kind: Kind, form: PurchaseForm, purchase_id: int | None = None, version: int = 0
) -> dict[str, object]:
    """What `purchase_forms` gives the form template (an edit form: its purchase's stamp too)."""
    context: dict[str, object] = {
        "kind": kind,
        "form": form,
        "catalog": catalog(kind),
        "purchase_id": purchase_id,
        "version": version,
    }
    if purchase_id is not None:
        context["created"] = created_stamp(NOW)
    return context


def filled_form(kind: Kind, lines: int = 2) -> PurchaseForm:
    """A purchase as a clerk entered it (and as the edit page loads it): farm F01, a supplier,
    an expedition with its fee, and `lines` lines."""
    values = {
        "invoice_number": invoice(kind, 7),
        "do_number": "DO-48213",
        "purchase_date": TODAY.isoformat(),
        "farm": "1",
        "coop": "1" if kind is Kind.LIVESTOCK else "",
        "supplier": "2",
        "expedition": str(len(MAIN.suppliers) + 1),
        "expedition_fee": "150000",
        "notes": "Kirim pagi sebelum jam 09.00; hubungi Pak Dedi di gerbang.",
    }
    return PurchaseForm(kind, values=values, lines=[_line(kind, n) for n in range(lines)])


def _line(kind: Kind, n: int) -> dict[str, str]:
    if kind is Kind.LIVESTOCK:
        strains = ("Cobb 500", "Ross 308", "Lohmann MB 202")
        return {
            "strain": strains[n % 3],
            "head_count": str(5000 * (n + 1)),
            "price_given": "per_head",
            "price": "7200",
            "weight_given": "total" if n else "per_head",
            "weight": str(210000 * (n + 1)) if n else "42",
            "tax_percent": "11",
        }
    items = list(catalog(kind).items.values())
    item = items[n % len(items)]
    line = {
        "item": str(item.id),
        "unit": str(max(item.unit_values, key=lambda unit: item.unit_values[unit])),
        "quantity": str(12 * (n + 1)),
        "price": ("385000", "45000")[n % 2],
    }
    if kind is Kind.FEED:
        line["flock"] = str(1 + n % 2)
    return line


def invalid_form(kind: Kind) -> PurchaseForm:
    """A filled form with the usual mistakes, checked by the real validation (which writes the
    messages shown beside the fields)."""
    form = filled_form(kind)
    form.values.update(
        invoice_number="", purchase_date="20-11-2026", supplier="", expedition_fee="-150000"
    )
    if kind is Kind.LIVESTOCK:
        form.values["coop"] = "3"  # a coop of farm F02
        form.lines[0].update(head_count="0", weight="-1", tax_percent="120")
        form.lines[1].update(strain="", price_given="", price="7.200,50")
    else:
        form.lines[0].update(quantity="0", price="4,5")
        form.lines[1].update(item=form.lines[0]["item"], unit=form.lines[0]["unit"])
        if kind is Kind.FEED:
            form.lines[0]["flock"] = "3"  # a flock of farm F02
    validate(form, catalog(kind))
    return form


def notice(level: str, text: str) -> dict[str, str]:
    """The message a row shows after a status change (`web/purchases._apply_move`)."""
    return {"level": level, "text": text}


def conflict(current: Status) -> dict[str, str]:
    """The 409 notice: someone else moved the purchase first."""
    return notice("error", str(StaleVersion(current, len(PATHS[current]) + 1)))


def rule_error(
    kind: Kind, current: Status, target: Status, role: Role, notes: str
) -> dict[str, str]:
    """The 422 notice for a move the rules refuse, worded by the rules themselves."""
    try:
        check_move(kind, current, target, role, notes)
    except RuleError as error:
        return notice("error", str(error))
    raise ValueError(f"{role.label} may move {kind.value} from {current} to {target}")


def forbidden(role: Role, action: Action, kind: Kind) -> str:
    """The 403 reason the permissions give."""
    try:
        require(role, action, kind)
    except Forbidden as error:
        return str(error)
    raise ValueError(f"{role.label} may {action.value} {kind.value}")


def error(status: int, message: str, reference: str = "") -> dict[str, object]:
    """An error fragment's context, titled as the app titles it."""
    return error_context(status, message, reference)


def bad_request(kind: Kind, params: dict[str, str]) -> str:
    """The 400 message for a table view asked with bad parameters, as the table's check words it."""
    try:
        TableQuery.from_params(kind, params)
    except ValidationFailed as failure:
        return " ".join(failure.errors.values())
    raise ValueError(f"{params} is a valid view")


def lines_context(kind: Kind, form: PurchaseForm) -> dict[str, object]:
    """What the form gives its lines: the catalog, the chosen farm and where the buttons post."""
    return {
        "kind": kind,
        "form": form,
        "catalog": catalog(kind),
        "farm_id": form.int_value("farm"),
        "action_url": f"/purchases/{kind.value}/new",
    }
