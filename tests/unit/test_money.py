from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from purchasing.domain.money import format_date, format_datetime, number, parse_decimal, rupiah


@pytest.mark.parametrize(
    ("amount", "decimals", "shown"),
    [
        (Decimal("0"), 2, "Rp 0,00"),
        (Decimal("1234567"), 2, "Rp 1.234.567,00"),
        (Decimal("1234567.5"), 2, "Rp 1.234.567,50"),
        (Decimal("999.995"), 2, "Rp 1.000,00"),
        (Decimal("7800"), 0, "Rp 7.800"),
        (Decimal("7800.5"), 0, "Rp 7.801"),
        (Decimal("12345678901.25"), 2, "Rp 12.345.678.901,25"),
        (Decimal("-1500"), 2, "Rp -1.500,00"),
        (42, 2, "Rp 42,00"),
    ],
)
def test_rupiah_uses_dots_for_thousands_and_comma_for_decimals(
    amount: Decimal, decimals: int, shown: str
) -> None:
    assert rupiah(amount, decimals) == shown


def test_number_is_rupiah_without_the_currency() -> None:
    assert number(12500) == "12.500"
    assert number(Decimal("1234.5"), 2) == "1.234,50"


def test_dates_are_day_month_year() -> None:
    assert format_date(date(2026, 3, 7)) == "07-03-2026"


def test_times_are_shown_in_wib() -> None:
    assert format_datetime(datetime(2026, 11, 29, 20, 30, tzinfo=UTC)) == "30-11-2026 03:30 WIB"
    assert format_datetime(datetime(2026, 11, 29, 1, 5)) == "29-11-2026 08:05 WIB"


@pytest.mark.parametrize("text", ["abc", "", "1,5", "NaN", "Infinity", "1e"])
def test_parse_decimal_rejects_what_is_not_a_plain_number(text: str) -> None:
    with pytest.raises(ValueError, match="not a number"):
        parse_decimal(text)


def test_parse_decimal_accepts_what_a_number_field_sends() -> None:
    assert parse_decimal(" 1234.50 ") == Decimal("1234.50")
