"""Helpers to fill purchase forms with the demo catalog and to read forms back from HTML."""

from __future__ import annotations

import re
from typing import Any

from purchasing.tables import Coop, Farm, Flock, Item, Partner, Purchase, Unit
from tests.helpers.demo import main_company


async def ids() -> dict[str, int]:
    """Demo catalog ids by a readable name."""
    company = await main_company()
    found: dict[str, int] = {}
    for row in await Partner.select(Partner.id, Partner.code).where(Partner.company == company):
        found[row["code"]] = row["id"]
    for row in await Unit.select(Unit.id, Unit.code):
        found[row["code"]] = row["id"]
    for row in await Item.select(Item.id, Item.code).where(Item.company == company):
        found[row["code"]] = row["id"]
    for row in await Coop.select(Coop.id, Coop.code, Coop.farm.code):
        found[f"{row['farm.code']}-{row['code']}"] = row["id"]
    for row in await Flock.select(Flock.id, Flock.code):
        found[row["code"]] = row["id"]
    for row in await Farm.select(Farm.id, Farm.code):
        found[row["code"]] = row["id"]
    return found


def header(ref: dict[str, int], invoice: str = "INV/TEST/1", **changes: Any) -> dict[str, Any]:
    data = {
        "invoice_number": invoice,
        "do_number": "DO-1",
        "purchase_date": "2026-11-25",
        "farm": ref["F01"],
        "supplier": ref["SUP01"],
        "expedition": ref["EXP01"],
        "expedition_fee": "150000",
        "notes": "urgent",
        "action": "save",
    }
    data.update(changes)
    return data


async def count(kind: str) -> int:
    return int(await Purchase.count().where(Purchase.kind == kind))


def options(html: str, name: str) -> set[int]:
    """The choice values offered by the select called `name`."""
    match = re.search(rf'<select[^>]* name="{re.escape(name)}"', html)
    assert match, name
    select = html[match.start() : html.index("</select>", match.start())]
    return {int(v) for v in re.findall(r'<option value="(\d+)"', select)}


def field_value(html: str, name: str) -> str:
    match = re.search(rf'<input[^>]* name="{re.escape(name)}"[^>]* value="([^"]*)"', html)
    assert match, name
    return match.group(1)


def valid_lines(kind: str, ref: dict[str, int]) -> dict[str, Any]:
    """One correct line of `kind` on farm F01."""
    if kind == "livestock":
        return {
            "coop": ref["F01-K01"],
            "lines-0-strain": "Cobb 500",
            "lines-0-head_count": "1000",
            "lines-0-price_given": "per_head",
            "lines-0-price": "7000",
            "lines-0-weight_given": "per_head",
            "lines-0-weight": "40",
            "lines-0-tax_percent": "0",
        }
    line = {"lines-0-quantity": "2", "lines-0-price": "1000"}
    if kind == "feed":
        return {
            **line,
            "lines-0-flock": ref["F01-K01-A"],
            "lines-0-item": ref["PKN-BR1"],
            "lines-0-unit": ref["SAK"],
        }
    return {**line, "lines-0-item": ref["OVK-VAK"], "lines-0-unit": ref["VIAL"]}
