"""Helpers to fill purchase forms with the demo catalog and to read forms back from HTML."""

from __future__ import annotations

import re
from html.parser import HTMLParser
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


def second_line(kind: str, ref: dict[str, int]) -> dict[str, Any]:
    """Another correct line of `kind` on farm F01, to go with `valid_lines`' as line 1."""
    if kind == "livestock":
        return {
            "lines-1-strain": "Ross 308",
            "lines-1-head_count": "500",
            "lines-1-price_given": "total",
            "lines-1-price": "3500000",
            "lines-1-weight_given": "total",
            "lines-1-weight": "20000",
            "lines-1-tax_percent": "11",
        }
    line = {"lines-1-quantity": "3", "lines-1-price": "2000"}
    if kind == "feed":
        return {
            **line,
            "lines-1-flock": ref["F01-K01-A"],
            "lines-1-item": ref["PKN-BR2"],
            "lines-1-unit": ref["KG"],
        }
    return {**line, "lines-1-item": ref["OVK-VIT"], "lines-1-unit": ref["KG"]}


class _FormReader(HTMLParser):
    """What a browser would submit from the first form whose `attribute` is `value` (no
    button)."""

    def __init__(self, attribute: str, value: str) -> None:
        super().__init__(convert_charrefs=True)
        self.attribute = attribute
        self.value = value
        self.found = False
        self.inside = False
        self.fields: dict[str, str] = {}
        self.select: str | None = None
        self.textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.inside = not self.found and a.get(self.attribute) == self.value
            self.found = self.found or self.inside
        if not self.inside:
            return
        name = a.get("name", "")
        if tag == "input" and name and a.get("type", "text") not in ("submit", "button"):
            self.fields[name] = a.get("value", "")
        elif tag == "select":
            self.select = name
            self.fields.setdefault(name, "")
        elif tag == "option" and self.select and "selected" in a:
            self.fields[self.select] = a.get("value", "")
        elif tag == "textarea":
            self.textarea = name
            self.fields[name] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "select":
            self.select = None
        elif tag == "textarea":
            self.textarea = None

    def handle_data(self, data: str) -> None:
        if self.inside and self.textarea:
            self.fields[self.textarea] += data


def form_fields(html: str, form_id: str = "purchase-form") -> dict[str, str]:
    """The fields a browser would send from the page's form, as they are filled in it."""
    reader = _FormReader("id", form_id)
    reader.feed(html)
    return reader.fields


def marked_form_fields(html: str, testid: str) -> dict[str, str]:
    """The fields of the page's first form marked `data-testid="<testid>"` (a status control,
    a delete form), as a browser would send them."""
    reader = _FormReader("data-testid", testid)
    reader.feed(html)
    assert reader.found, testid
    return reader.fields
