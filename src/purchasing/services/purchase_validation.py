"""Validation of a purchase form against the actor's catalog, into typed and computed values."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from purchasing.domain import livestock, units
from purchasing.domain.money import parse_decimal, parse_int, round_money, rupiah
from purchasing.domain.statuses import Kind
from purchasing.i18n import N_, _
from purchasing.services.catalog import Catalog
from purchasing.services.purchase_form import MALFORMED, PurchaseForm

# Bounds keep every figure, and every product of figures, inside the database's columns.
MAX_PRICE = Decimal("1e12")  # Rp per unit, per head, or an expedition fee
MAX_QUANTITY = Decimal(1_000_000)
MAX_WEIGHT_G = Decimal("1e9")
MAX_HEADS = 10_000_000
MAX_TOTAL = Decimal("1e14")  # Rp on one line and on the whole purchase
DECIMAL_PLACES = 4
# What to choose, as a field that asks for it says when it is empty and when it holds something
# not on the list; marked here, translated where said.
CHOICES = {
    "farm": (N_("Choose a farm."), N_("Choose a farm from the list.")),
    "supplier": (N_("Choose a supplier."), N_("Choose a supplier from the list.")),
    "expedition": (N_("Choose an expedition."), N_("Choose an expedition from the list.")),
    "coop": (N_("Choose a coop."), N_("Choose a coop from the list.")),
    "flock": (N_("Choose a flock."), N_("Choose a flock from the list.")),
    "item": (N_("Choose an item."), N_("Choose an item from the list.")),
    "unit": (N_("Choose a unit of this item."), N_("Choose a unit of this item from the list.")),
}


@dataclass(frozen=True)
class CleanGoodsLine:
    item_id: int
    unit_id: int
    flock_id: int | None
    quantity: Decimal
    price_per_unit: Decimal
    converted_quantity: Decimal
    converted_unit_id: int
    price_per_converted_unit: Decimal
    line_total: Decimal
    line_id: int | None = None  # the stored line this one replaces, on an edit


@dataclass(frozen=True)
class CleanLivestockLine:
    strain: str
    head_count: int
    price_given: livestock.Given
    price: livestock.Split
    weight_given: livestock.Given
    weight: livestock.Split
    tax_percent: Decimal
    tax_amount: Decimal
    line_id: int | None = None

    @property
    def line_total(self) -> Decimal:
        return self.price.total + self.tax_amount


@dataclass(frozen=True)
class CleanPurchase:
    kind: Kind
    company_id: int
    invoice_number: str
    do_number: str
    purchase_date: date
    farm_id: int
    coop_id: int | None
    supplier_id: int
    expedition_id: int | None
    expedition_fee: Decimal
    notes: str
    goods_lines: tuple[CleanGoodsLine, ...] = ()
    livestock_lines: tuple[CleanLivestockLine, ...] = ()

    @property
    def subtotal(self) -> Decimal:
        goods = sum((line.line_total for line in self.goods_lines), Decimal(0))
        return goods + sum((line.price.total for line in self.livestock_lines), Decimal(0))

    @property
    def tax_total(self) -> Decimal:
        return sum((line.tax_amount for line in self.livestock_lines), Decimal(0))

    @property
    def grand_total(self) -> Decimal:
        return self.subtotal + self.tax_total + self.expedition_fee

    @property
    def head_count(self) -> int:
        return sum(line.head_count for line in self.livestock_lines)


class _Checker:
    """Collects one message per field while turning strings into typed values."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors

    def text(self, key: str, raw: str, max_length: int, missing: str = "") -> str:
        """`missing`: what to say when it is empty, already worded; "" when it may be."""
        if missing and not raw:
            self.errors[key] = missing
        elif len(raw) > max_length:
            self.errors[key] = _("Use at most %(count)s characters.", count=max_length)
        elif "\x00" in raw:  # PostgreSQL cannot store it in text
            self.errors[key] = _("Remove the NUL character.")
        return raw

    def choice(self, key: str, raw: str, options: Mapping[int, object], what: str) -> int | None:
        """`what`: one of CHOICES."""
        empty, unknown = CHOICES[what]
        if not raw:
            self.errors[key] = _(empty)
            return None
        choice = parse_int(raw)
        if choice is None or choice not in options:
            self.errors[key] = _(unknown)
            return None
        return choice

    def decimal(
        self, key: str, raw: str, *, positive: bool = False, at_most: Decimal = MAX_PRICE
    ) -> Decimal:
        try:
            value = parse_decimal(raw)
        except ValueError:
            self.errors[key] = (
                _("Enter a number, for example 1500 or 12.5.") if raw else _("Enter a number.")
            )
            return Decimal(0)
        if value < 0 or (positive and value == 0):
            self.errors[key] = (
                _("Must be more than zero.") if positive else _("Cannot be negative.")
            )
        elif value > at_most:
            self.errors[key] = _("Must be at most %(most)s.", most=f"{at_most:,.0f}")
        elif value.as_tuple().exponent < -DECIMAL_PLACES:  # type: ignore[operator]
            self.errors[key] = _("Use at most %(count)s decimal places.", count=DECIMAL_PLACES)
        else:
            return value
        return Decimal(0)  # never computed with: the error stops the save

    def total(self, key: str, amount: Decimal) -> bool:
        """Flag a computed total too large to keep; True when it is."""
        if amount <= MAX_TOTAL:
            return False
        self.errors.setdefault(
            key, _("The total would exceed %(amount)s.", amount=rupiah(MAX_TOTAL, 0))
        )
        return True

    def whole(self, key: str, raw: str) -> int:
        value = parse_int(raw)
        if not value:
            self.errors[key] = _("Enter a whole number above zero.")
        elif value > MAX_HEADS:
            self.errors[key] = _("Must be at most %(most)s.", most=f"{MAX_HEADS:,}")
        else:
            return value
        return 0

    def day(self, key: str, raw: str) -> date:
        try:
            return date.fromisoformat(raw)
        except ValueError:
            self.errors[key] = _("Enter a date.") if not raw else _("Enter a date as yyyy-mm-dd.")
            return date.min


def validate(form: PurchaseForm, catalog: Catalog) -> CleanPurchase | None:
    """Check every field; on any error fill `form.errors` and return None."""
    form.errors.clear()
    if form.malformed:
        form.errors["form"] = _(MALFORMED)
    check = _Checker(form.errors)
    v = form.value
    farm_id = check.choice("farm", v("farm"), catalog.farms, "farm")
    company_id = catalog.farms[farm_id].company_id if farm_id else None
    supplier_id = check.choice("supplier", v("supplier"), catalog.suppliers, "supplier")
    expedition_id = None
    if v("expedition"):
        expedition_id = check.choice(
            "expedition", v("expedition"), catalog.expeditions, "expedition"
        )
    for key, partner_id, options in (
        ("supplier", supplier_id, catalog.suppliers),
        ("expedition", expedition_id, catalog.expeditions),
    ):
        if partner_id and company_id and options[partner_id].company_id != company_id:
            form.errors[key] = _("This partner belongs to another company than the farm.")
    coop_id = None
    if form.kind is Kind.LIVESTOCK:
        coop_id = check.choice("coop", v("coop"), catalog.coops, "coop")
        if coop_id and farm_id and catalog.coops[coop_id].farm_id != farm_id:
            form.errors["coop"] = _("This coop is not on the chosen farm.")
    invoice_number = check.text(
        "invoice_number", v("invoice_number"), 64, missing=_("Enter the invoice number.")
    )
    do_number = check.text("do_number", v("do_number"), 64)
    purchase_date = check.day("purchase_date", v("purchase_date"))
    expedition_fee = round_money(check.decimal("expedition_fee", v("expedition_fee") or "0"))
    notes = check.text("notes", v("notes"), 2000)
    goods_lines: tuple[CleanGoodsLine, ...] = ()
    livestock_lines: tuple[CleanLivestockLine, ...] = ()
    if form.kind is Kind.LIVESTOCK:
        livestock_lines = _livestock_lines(form, check)
    else:
        goods_lines = _goods_lines(form, catalog, check, farm_id, company_id)
    if form.errors or farm_id is None or supplier_id is None or company_id is None:
        return None
    clean = CleanPurchase(
        kind=form.kind,
        company_id=company_id,
        invoice_number=invoice_number,
        do_number=do_number,
        purchase_date=purchase_date,
        farm_id=farm_id,
        coop_id=coop_id,
        supplier_id=supplier_id,
        expedition_id=expedition_id,
        expedition_fee=expedition_fee,
        notes=notes,
        goods_lines=goods_lines,
        livestock_lines=livestock_lines,
    )
    return None if check.total("lines", clean.grand_total) else clean


def _goods_lines(
    form: PurchaseForm,
    catalog: Catalog,
    check: _Checker,
    farm_id: int | None,
    company_id: int | None,
) -> tuple[CleanGoodsLine, ...]:
    if not form.lines:
        form.errors["lines"] = _("Add at least one line.")
    seen: dict[tuple[int | None, int, int], int] = {}
    lines = []
    for n, raw in enumerate(form.lines):
        key = f"lines-{n}-"
        flock_id = None
        if form.kind is Kind.FEED:
            flock_id = check.choice(key + "flock", raw.get("flock", ""), catalog.flocks, "flock")
            if flock_id and farm_id and catalog.flocks[flock_id].farm_id != farm_id:
                form.errors[key + "flock"] = _("This flock is not on the chosen farm.")
        item_id = check.choice(key + "item", raw.get("item", ""), catalog.items, "item")
        unit_id = None
        if item_id:
            item = catalog.items[item_id]
            if company_id and item.company_id != company_id:
                form.errors[key + "item"] = _("This item belongs to another company than the farm.")
            unit_id = check.choice(key + "unit", raw.get("unit", ""), item.unit_values, "unit")
        quantity = check.decimal(
            key + "quantity", raw.get("quantity", ""), positive=True, at_most=MAX_QUANTITY
        )
        price = round_money(check.decimal(key + "price", raw.get("price", "")))
        check.total(key + "price", quantity * price)
        if item_id is None or unit_id is None:
            continue
        pair = (flock_id, item_id, unit_id)
        if pair in seen:
            form.errors[key + "unit"] = _(
                "This item and unit already appear on line %(line)s.", line=seen[pair] + 1
            )
            continue
        seen[pair] = n
        item = catalog.items[item_id]
        unit_value = item.unit_values[unit_id]
        smallest = item.unit_values[item.smallest_unit_id]
        lines.append(
            CleanGoodsLine(
                item_id=item_id,
                unit_id=unit_id,
                flock_id=flock_id,
                quantity=quantity,
                price_per_unit=price,
                converted_quantity=units.convert_quantity(quantity, unit_value, smallest),
                converted_unit_id=item.smallest_unit_id,
                price_per_converted_unit=units.price_per_smallest(price, unit_value, smallest),
                line_total=round_money(quantity * price),
                line_id=parse_int(raw.get("id", "")),
            )
        )
    return tuple(lines)


def _livestock_lines(form: PurchaseForm, check: _Checker) -> tuple[CleanLivestockLine, ...]:
    if not form.lines:
        form.errors["lines"] = _("Add at least one strain line.")
    lines = []
    for n, raw in enumerate(form.lines):
        key = f"lines-{n}-"
        strain = check.text(
            key + "strain", raw.get("strain", ""), 120, missing=_("Enter the strain.")
        )
        heads = check.whole(key + "head_count", raw.get("head_count", ""))
        price_given = _given(check, key + "price_given", raw.get("price_given", ""))
        weight_given = _given(check, key + "weight_given", raw.get("weight_given", ""))
        price = check.decimal(key + "price", raw.get("price", ""))
        weight = check.decimal(
            key + "weight", raw.get("weight", ""), positive=True, at_most=MAX_WEIGHT_G
        )
        tax_percent = check.decimal(
            key + "tax_percent", raw.get("tax_percent", "") or "0", at_most=Decimal(100)
        )
        if heads <= 0 or price_given is None or weight_given is None:
            continue
        price_split = livestock.price(heads, price_given, round_money(price))
        check.total(
            key + "price", price_split.total + livestock.tax(price_split.total, tax_percent)
        )
        lines.append(
            CleanLivestockLine(
                strain=strain,
                head_count=heads,
                price_given=price_given,
                price=price_split,
                weight_given=weight_given,
                weight=livestock.weight(heads, weight_given, weight),
                tax_percent=tax_percent,
                tax_amount=livestock.tax(price_split.total, tax_percent),
                line_id=parse_int(raw.get("id", "")),
            )
        )
    return tuple(lines)


def _given(check: _Checker, key: str, raw: str) -> livestock.Given | None:
    try:
        return livestock.Given(raw)
    except ValueError:
        check.errors[key] = _("Choose per head or total.")
        return None
