from __future__ import annotations

from decimal import Decimal

import pytest

from purchasing.domain import livestock
from purchasing.domain.livestock import Given


def test_price_per_head_gives_the_total() -> None:
    split = livestock.price(5000, Given.PER_HEAD, Decimal(7800))
    assert (split.per_head, split.total) == (Decimal(7800), Decimal("39000000.00"))


def test_price_total_gives_the_price_per_head_rounded_to_cents() -> None:
    split = livestock.price(3, Given.TOTAL, Decimal(10000))
    assert (split.per_head, split.total) == (Decimal("3333.33"), Decimal(10000))


def test_weight_in_grams_either_way() -> None:
    assert livestock.weight(2000, Given.PER_HEAD, Decimal(40)).total == Decimal("80000.0000")
    assert livestock.weight(2000, Given.TOTAL, Decimal(81000)).per_head == Decimal("40.5000")


def test_tax_is_a_percentage_of_the_price_total() -> None:
    assert livestock.tax(Decimal("39000000.00"), Decimal(11)) == Decimal("4290000.00")
    assert livestock.tax(Decimal("100.01"), Decimal("2.5")) == Decimal("2.50")


def test_a_line_needs_heads() -> None:
    with pytest.raises(ValueError, match="head count"):
        livestock.price(0, Given.TOTAL, Decimal(100))
