from __future__ import annotations

from decimal import Decimal

from purchasing.domain.units import convert_quantity, price_per_smallest


def test_sacks_convert_to_grams() -> None:
    # A sack is 50,000 of the smallest unit (gram, value 1).
    assert convert_quantity(Decimal(2), Decimal(50000), Decimal(1)) == Decimal("100000.0000")
    assert price_per_smallest(Decimal(425000), Decimal(50000), Decimal(1)) == Decimal("8.5000")


def test_conversion_is_relative_to_the_smallest_value_not_to_one() -> None:
    # Units counted in tens: box = 1,000, strip = 10 (smallest).
    assert convert_quantity(Decimal("1.5"), Decimal(1000), Decimal(10)) == Decimal("150.0000")
    assert price_per_smallest(Decimal(300000), Decimal(1000), Decimal(10)) == Decimal("3000.0000")


def test_buying_in_the_smallest_unit_changes_nothing() -> None:
    assert convert_quantity(Decimal("12.5"), Decimal(1), Decimal(1)) == Decimal("12.5000")
    assert price_per_smallest(Decimal(4500), Decimal(1), Decimal(1)) == Decimal("4500.0000")
