"""Unit conversion: quantities and prices in an item's smallest unit."""

from __future__ import annotations

from decimal import Decimal

QUANTITY_PLACES = Decimal("0.0001")


def convert_quantity(quantity: Decimal, unit_value: Decimal, smallest_value: Decimal) -> Decimal:
    """converted_quantity = quantity x unit value / smallest value."""
    return (quantity * unit_value / smallest_value).quantize(QUANTITY_PLACES)


def price_per_smallest(
    price_per_unit: Decimal, unit_value: Decimal, smallest_value: Decimal
) -> Decimal:
    """The price of one smallest unit when one `unit` costs `price_per_unit`."""
    return (price_per_unit * smallest_value / unit_value).quantize(QUANTITY_PLACES)
