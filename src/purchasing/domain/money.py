"""Rupiah amounts, decimals typed by clerks, dates and times as shown in WIB."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

WIB = timezone(timedelta(hours=7), "WIB")
CENT = Decimal("0.01")


def rupiah(amount: Decimal | int, decimals: int = 2) -> str:
    """`Rp 1.234.567,00`: dot for thousands, comma for decimals."""
    quantum = Decimal(1).scaleb(-decimals)
    value = Decimal(amount).quantize(quantum, rounding=ROUND_HALF_UP)
    sign = "-" if value < 0 else ""
    text = f"{abs(value):,.{decimals}f}"
    return "Rp " + sign + text.replace(",", "_").replace(".", ",").replace("_", ".")


def number(amount: Decimal | int, decimals: int = 0) -> str:
    """A plain figure in Indonesian notation, e.g. `12.500` heads or `1.234,5` kg."""
    return rupiah(amount, decimals).removeprefix("Rp ")


def round_money(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


PLAIN_INT = re.compile(r"[0-9]{1,15}")


def parse_int(text: str) -> int | None:
    """A whole number written with ASCII digits only (no sign, no other scripts), else None."""
    return int(text) if PLAIN_INT.fullmatch(text) else None


def parse_decimal(text: str) -> Decimal:
    """Parse a number as a browser's number field sends it (`1234.5`); raise ValueError."""
    cleaned = text.strip()
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError(f"{text!r} is not a number") from None
    if not value.is_finite():
        raise ValueError(f"{text!r} is not a number")
    return value


def format_date(day: date) -> str:
    return day.strftime("%d-%m-%Y")


def format_datetime(moment: datetime) -> str:
    """`29-11-2026 14:05 WIB`, whatever zone `moment` carries."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(WIB).strftime("%d-%m-%Y %H:%M WIB")
