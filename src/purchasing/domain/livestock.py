"""Per-head and total figures of a chick (DOC) line, derived from whichever was given."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from purchasing.domain.money import round_money

MAX_LINES = 3
WEIGHT_PLACES = Decimal("0.0001")


class Given(StrEnum):
    PER_HEAD = "per_head"
    TOTAL = "total"


@dataclass(frozen=True)
class Split:
    per_head: Decimal
    total: Decimal


def split(head_count: int, given: Given, value: Decimal, places: Decimal) -> Split:
    """Derive the other figure: total = per head x heads, or per head = total / heads."""
    if head_count <= 0:
        raise ValueError("head count must be positive")
    heads = Decimal(head_count)
    if given is Given.PER_HEAD:
        return Split(per_head=value, total=(value * heads).quantize(places, ROUND_HALF_UP))
    return Split(per_head=(value / heads).quantize(places, ROUND_HALF_UP), total=value)


def price(head_count: int, given: Given, value: Decimal) -> Split:
    return split(head_count, given, value, Decimal("0.01"))


def weight(head_count: int, given: Given, value: Decimal) -> Split:
    return split(head_count, given, value, WEIGHT_PLACES)


def tax(total: Decimal, percent: Decimal) -> Decimal:
    return round_money(total * percent / 100)
