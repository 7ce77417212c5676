"""Each field macro with and without its error; a state names its `macro` and gives its
arguments."""

from typing import Any

from purchasing.domain.statuses import Kind
from purchasing.gallery import samples as s

filled = s.filled_form(Kind.FEED)
refused = s.invalid_form(Kind.FEED)
farms = list(s.catalog(Kind.FEED).farms.values())
suppliers = list(s.catalog(Kind.FEED).suppliers.values())
invoice = {"name": "invoice_number", "label": "Invoice number", "required": True}
supplier = {"name": "supplier", "label": "Supplier", "placeholder": "Choose a supplier"}

STATES: dict[str, dict[str, Any]] = {
    "error: a field with a message": {"macro": "error", "form": refused, "name": "invoice_number"},
    "error: a field without (renders nothing)": {
        "macro": "error",
        "form": filled,
        "name": "invoice_number",
    },
    "described: the attributes of a field with an error": {
        "macro": "described",
        "form": refused,
        "name": "invoice_number",
    },
    "input: required, filled": {
        "macro": "input",
        "form": filled,
        "value": filled.value("invoice_number"),
        **invoice,
    },
    "input: required, left empty": {"macro": "input", "form": refused, "value": "", **invoice},
    "input: a number refused": {
        "macro": "input",
        "form": refused,
        "name": "expedition_fee",
        "label": "Expedition fee (Rp)",
        "value": refused.value("expedition_fee"),
        "type": "number",
        "step": "0.01",
        "min": 0,
    },
    "select: nothing to choose yet": {
        "macro": "select",
        "form": filled,
        "name": "lines-0-flock",
        "label": "Flock",
        "value": "",
        "choices": [],
        "placeholder": "Choose a farm first",
    },
    "select: chosen, refreshing the form on change": {
        "macro": "select",
        "form": filled,
        "name": "farm",
        "label": "Farm",
        "value": "3",
        "choices": farms,
        "placeholder": "Choose a farm",
        "required": True,
        "refresh": "/purchases/feed/new",
    },
    "select: chosen": {
        "macro": "select",
        "form": filled,
        "value": "4",
        "choices": suppliers,
        **supplier,
    },
    "select: required, left empty": {
        "macro": "select",
        "form": refused,
        "value": "",
        "choices": suppliers,
        "required": True,
        **supplier,
    },
    "line_button: add a line": {
        "macro": "line_button",
        "action_url": "/purchases/feed/new",
        "action": "add_line",
        "label": "Add line",
        "testid": "add-line",
    },
}
