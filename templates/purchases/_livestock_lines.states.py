"""Chick (DOC) strain lines: one blank, the most there may be, and refused by the validation."""

from typing import Any

from purchasing.domain.statuses import Kind
from purchasing.gallery import samples as s
from purchasing.services.purchase_form import PurchaseForm


def lines(form: PurchaseForm) -> dict[str, Any]:
    context = s.lines_context(Kind.LIVESTOCK, form)
    return {"form": context["form"], "action_url": context["action_url"]}


STATES: dict[str, dict[str, Any]] = {
    "one blank line": lines(PurchaseForm.blank(Kind.LIVESTOCK, s.TODAY)),
    "three strains, price and weight per head or in total": lines(
        s.filled_form(Kind.LIVESTOCK, lines=3)
    ),
    "validation errors": lines(s.invalid_form(Kind.LIVESTOCK)),
}
