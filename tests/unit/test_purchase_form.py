"""Form parsing and validation against a catalog, without a database."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from purchasing.domain.statuses import Kind
from purchasing.services.catalog import Catalog, Choice, ItemChoice
from purchasing.services.purchase_form import PurchaseForm
from purchasing.services.purchase_validation import validate

GRAM, KG, SAK = 1, 2, 3
CATALOG = Catalog(
    farms={
        10: Choice(10, "F01", company_id=1),
        11: Choice(11, "F02", company_id=1),
        12: Choice(12, "X01", company_id=2),
    },
    coops={20: Choice(20, "K01", farm_id=10), 21: Choice(21, "K01", farm_id=11)},
    flocks={30: Choice(30, "F01-K01", farm_id=10), 31: Choice(31, "F02-K01", farm_id=11)},
    suppliers={40: Choice(40, "Medion", company_id=1), 41: Choice(41, "Other Co", company_id=2)},
    expeditions={50: Choice(50, "Cepat", company_id=1)},
    items={
        60: ItemChoice(60, "BR-1", 1, {GRAM: Decimal(1), KG: Decimal(1000), SAK: Decimal(50000)})
    },
    units={GRAM: Choice(GRAM, "GRAM"), KG: Choice(KG, "KG"), SAK: Choice(SAK, "SAK")},
)


def header(**changes: str) -> list[tuple[str, str]]:
    values = {
        "invoice_number": "INV-1",
        "purchase_date": "2026-11-20",
        "farm": "10",
        "coop": "20",
        "supplier": "40",
        "expedition": "50",
        "expedition_fee": "150000",
    }
    values.update(changes)
    return list(values.items())


def feed_line(n: int, **changes: str) -> list[tuple[str, str]]:
    values = {"flock": "30", "item": "60", "unit": str(SAK), "quantity": "2", "price": "425000"}
    values.update(changes)
    return [(f"lines-{n}-{k}", v) for k, v in values.items()]


def test_lines_keep_their_order_and_unknown_fields_are_ignored() -> None:
    fields = [
        *header(),
        ("lines-7-item", "b"),
        ("lines-2-item", "a"),
        ("lines-2-bogus", "x"),
        ("status", "completed"),
    ]
    form = PurchaseForm.from_fields(Kind.SUPPLY, fields)
    assert form.lines == [{"item": "a"}, {"item": "b"}]
    assert "status" not in form.values


def test_a_valid_feed_purchase_is_converted_and_totalled() -> None:
    form = PurchaseForm.from_fields(
        Kind.FEED,
        [*header(), *feed_line(0), *feed_line(1, unit=str(KG), quantity="10", price="9000")],
    )
    clean = validate(form, CATALOG)
    assert form.errors == {}
    assert clean is not None
    first, second = clean.goods_lines
    assert (first.converted_quantity, first.converted_unit_id) == (Decimal("100000.0000"), GRAM)
    assert first.price_per_converted_unit == Decimal("8.5000")
    assert (first.line_total, second.line_total) == (Decimal("850000.00"), Decimal("90000.00"))
    assert clean.grand_total == Decimal("1090000.00")
    assert clean.company_id == 1


def test_every_bad_field_gets_its_own_message() -> None:
    form = PurchaseForm.from_fields(
        Kind.FEED,
        [
            *header(invoice_number="", purchase_date="20-11-2026", farm="99", expedition_fee="-5"),
            *feed_line(0, quantity="0", price="abc"),
        ],
    )
    assert validate(form, CATALOG) is None
    assert form.errors == {
        "invoice_number": "Enter the invoice number.",
        "purchase_date": "Enter a date as yyyy-mm-dd.",
        "farm": "Choose a farm from the list.",
        "expedition_fee": "Cannot be negative.",
        "lines-0-quantity": "Must be more than zero.",
        "lines-0-price": "Enter a number, for example 1500 or 12.5.",
    }


def test_an_item_and_unit_appear_once_per_flock() -> None:
    form = PurchaseForm.from_fields(Kind.FEED, [*header(), *feed_line(0), *feed_line(1)])
    assert validate(form, CATALOG) is None
    assert form.errors == {"lines-1-unit": "This item and unit already appear on line 1."}


def test_a_flock_must_live_on_the_chosen_farm() -> None:
    form = PurchaseForm.from_fields(Kind.FEED, [*header(), *feed_line(0, flock="31")])
    assert validate(form, CATALOG) is None
    assert form.errors == {"lines-0-flock": "This flock is not on the chosen farm."}


def test_a_unit_must_belong_to_the_item() -> None:
    form = PurchaseForm.from_fields(
        Kind.SUPPLY,
        [
            *header(),
            ("lines-0-item", "60"),
            ("lines-0-unit", "99"),
            ("lines-0-quantity", "1"),
            ("lines-0-price", "1"),
        ],
    )
    assert validate(form, CATALOG) is None
    assert form.errors == {"lines-0-unit": "Choose a unit of this item from the list."}


def test_partners_must_belong_to_the_farms_company() -> None:
    form = PurchaseForm.from_fields(Kind.SUPPLY, [*header(supplier="41"), *feed_line(0)])
    assert validate(form, CATALOG) is None
    assert form.errors == {"supplier": "This partner belongs to another company than the farm."}


def livestock_fields(*lines: dict[str, str], **head: str) -> list[tuple[str, str]]:
    fields = header(**head)
    for n, line in enumerate(lines):
        fields += [(f"lines-{n}-{k}", v) for k, v in line.items()]
    return fields


STRAIN = {
    "strain": "Cobb 500",
    "head_count": "3",
    "price_given": "total",
    "price": "10000",
    "weight_given": "per_head",
    "weight": "40",
    "tax_percent": "11",
}


def test_livestock_lines_derive_per_head_and_total_figures() -> None:
    form = PurchaseForm.from_fields(Kind.LIVESTOCK, livestock_fields(STRAIN))
    clean = validate(form, CATALOG)
    assert clean is not None, form.errors
    (line,) = clean.livestock_lines
    assert (line.price.per_head, line.price.total) == (Decimal("3333.33"), Decimal("10000.00"))
    assert line.weight.total == Decimal("120.0000")
    assert line.tax_amount == Decimal("1100.00")
    assert (clean.head_count, clean.grand_total) == (3, Decimal("161100.00"))


def test_livestock_needs_a_coop_on_the_farm() -> None:
    form = PurchaseForm.from_fields(Kind.LIVESTOCK, livestock_fields(STRAIN, coop="21"))
    assert validate(form, CATALOG) is None
    assert form.errors == {"coop": "This coop is not on the chosen farm."}


def test_livestock_keeps_at_most_three_lines() -> None:
    form = PurchaseForm.from_fields(
        Kind.LIVESTOCK, livestock_fields(STRAIN, STRAIN, STRAIN, STRAIN)
    )
    assert len(form.lines) == 3
    assert not form.can_add_line
    form.add_line()
    assert len(form.lines) == 3


@pytest.mark.parametrize("heads", ["0", "-2", "1.5", "many"])
def test_head_count_is_a_whole_number_above_zero(heads: str) -> None:
    form = PurchaseForm.from_fields(
        Kind.LIVESTOCK, livestock_fields({**STRAIN, "head_count": heads})
    )
    assert validate(form, CATALOG) is None
    assert form.errors == {"lines-0-head_count": "Enter a whole number above zero."}


def test_removing_lines_keeps_at_least_one() -> None:
    form = PurchaseForm.blank(Kind.SUPPLY, date(2026, 11, 29))
    form.remove_line(0)
    assert len(form.lines) == 1
    form.add_line()
    form.remove_line(0)
    assert len(form.lines) == 1
