"""A purchase form as typed by a clerk: raw strings, kept to show again beside their errors."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from purchasing.domain import livestock
from purchasing.domain.money import parse_int
from purchasing.domain.statuses import Kind
from purchasing.i18n import N_

HEADER_FIELDS = (
    "invoice_number",
    "do_number",
    "purchase_date",
    "farm",
    "coop",
    "supplier",
    "expedition",
    "expedition_fee",
    "notes",
)
GOODS_FIELDS = ("item", "unit", "quantity", "price")
LINE_FIELDS = {
    Kind.SUPPLY: GOODS_FIELDS,
    Kind.FEED: ("flock", *GOODS_FIELDS),
    Kind.LIVESTOCK: (
        "strain",
        "head_count",
        "price_given",
        "price",
        "weight_given",
        "weight",
        "tax_percent",
    ),
}
MAX_LINES = {Kind.SUPPLY: 50, Kind.FEED: 50, Kind.LIVESTOCK: livestock.MAX_LINES}
LINE_KEY = re.compile(r"^lines-([0-9]{1,4})-(\w+)$")
LINE_PREFIX = "lines-"
LINE_ID = "id"  # a stored line's id, which an edit form carries hidden (three-way merge)
# Marked here, translated where shown (`_(MALFORMED)`).
MALFORMED = N_("This form has a line it cannot read. Reload the page and enter the purchase again.")


@dataclass
class PurchaseForm:
    """The raw strings of a form, kept so a page can show them again beside their errors."""

    kind: Kind
    values: dict[str, str] = field(default_factory=dict)
    lines: list[dict[str, str]] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)
    malformed: bool = False  # it held a field no form of ours sends: it cannot be saved

    @classmethod
    def blank(cls, kind: Kind, today: date) -> PurchaseForm:
        form = cls(kind, values={"purchase_date": today.isoformat(), "expedition_fee": "0"})
        form.add_line()
        return form

    @classmethod
    def from_fields(cls, kind: Kind, fields: Iterable[tuple[str, str]]) -> PurchaseForm:
        """Read `name=value` pairs; lines come as `lines-<n>-<field>` and keep their order."""
        values: dict[str, str] = {}
        numbered: dict[int, dict[str, str]] = {}
        malformed = False
        for name, value in fields:
            match = LINE_KEY.match(name)
            if match and match.group(2) in (*LINE_FIELDS[kind], LINE_ID):
                numbered.setdefault(int(match.group(1)), {})[match.group(2)] = value.strip()
            elif name.startswith(LINE_PREFIX) and not match:
                malformed = True  # a line number no form of ours would send
            elif name in HEADER_FIELDS:
                values[name] = value.strip()
        lines = [numbered[n] for n in sorted(numbered)][: MAX_LINES[kind]]
        return cls(kind, values=values, lines=lines, malformed=malformed)

    @property
    def can_add_line(self) -> bool:
        return len(self.lines) < MAX_LINES[self.kind]

    def add_line(self) -> None:
        if self.can_add_line:
            line = {"price_given": "per_head", "weight_given": "per_head", "tax_percent": "0"}
            self.lines.append(line if self.kind is Kind.LIVESTOCK else {})

    def remove_line(self, index: int) -> None:
        if 0 <= index < len(self.lines) and len(self.lines) > 1:
            del self.lines[index]

    def value(self, name: str) -> str:
        return self.values.get(name, "")

    def int_value(self, name: str) -> int | None:
        text = self.values.get(name, "")
        return parse_int(text)
