"""Sample detail pages for the gallery: a demo purchase as `services/detail` reads it back, its
lines and totals computed by the real validation, its history following the demo's paths."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from purchasing.domain.roles import Role
from purchasing.domain.statuses import Kind, Status, offered_moves
from purchasing.gallery import samples as s
from purchasing.services.demo_data import MAIN, PATHS
from purchasing.services.detail import Deleted, Detail
from purchasing.services.purchase_validation import CleanPurchase, validate

CLERK = "Budi Santoso"


def detail(kind: Kind, status: Status, role: Role = Role.MANAGER, lines: int = 2) -> Detail:
    """Purchase 7 of `kind` (as `samples.filled_form` enters it), now `status`, seen by `role`."""
    catalog = s.catalog(kind)
    clean = validate(s.filled_form(kind, lines), catalog)
    if clean is None:
        raise ValueError(f"the sample {kind.value} form does not validate: {s.filled_form(kind)}")
    steps = (Status.DRAFT, *PATHS[status])
    purchase = {
        "id": 7,
        "invoice_number": clean.invoice_number,
        "do_number": clean.do_number,
        "purchase_date": clean.purchase_date,
        "farm_code": MAIN.farms[0][0],
        "farm_name": MAIN.farms[0][1],
        "coop_name": catalog.coops[clean.coop_id].label if clean.coop_id else None,
        "supplier_name": catalog.suppliers[clean.supplier_id].label,
        "expedition_name": catalog.expeditions[clean.expedition_id].label
        if clean.expedition_id
        else None,
        "created_at": s.NOW - timedelta(hours=len(steps)),
        "created_by_name": CLERK,
        "updated_at": s.NOW,
        "updated_by_name": CLERK,
        "version": len(steps),
        "status": status.value,
        "notes": clean.notes,
        "subtotal": clean.subtotal,
        "tax_total": clean.tax_total,
        "expedition_fee": clean.expedition_fee,
        "grand_total": clean.grand_total,
        "head_count": clean.head_count,
    }
    history = [
        {
            "changed_at": s.NOW - timedelta(hours=len(steps) - n),
            "from_status": steps[n - 1].value if n else None,
            "to_status": step.value,
            "changed_by_name": CLERK,
            "notes": "Created" if not n else "",
            "client_ip": "10.20.0.14",
            "user_agent": "Mozilla/5.0 (Linux; Android 14) Chrome/131.0 Mobile",
        }
        for n, step in enumerate(steps)
    ]
    return Detail(
        kind=kind,
        purchase=purchase,
        lines=_lines(kind, clean),
        history=history,
        moves=tuple(offered_moves(kind, status, role)),
        role=role,
    )


def _lines(kind: Kind, clean: CleanPurchase) -> list[dict[str, Any]]:
    if kind is Kind.LIVESTOCK:
        return [
            {
                "strain": line.strain,
                "head_count": line.head_count,
                "price_per_head": line.price.per_head,
                "price_total": line.price.total,
                "weight_per_head_g": line.weight.per_head,
                "weight_total_g": line.weight.total,
                "tax_percent": line.tax_percent,
                "tax_amount": line.tax_amount,
                "line_total": line.line_total,
            }
            for line in clean.livestock_lines
        ]
    catalog = s.catalog(kind)
    units = catalog.units
    return [
        {
            "flock_name": catalog.flocks[line.flock_id].label if line.flock_id else "",
            "coop_name": "Kandang 1",
            "item_name": catalog.items[line.item_id].label,
            "quantity": line.quantity,
            "unit_code": units[line.unit_id].label,
            "price_per_unit": line.price_per_unit,
            "converted_quantity": line.converted_quantity,
            "converted_unit_code": units[line.converted_unit_id].label,
            "price_per_converted_unit": line.price_per_converted_unit,
            "line_total": line.line_total,
        }
        for line in clean.goods_lines
    ]


def deleted(kind: Kind) -> Deleted:
    return Deleted(kind, 7, s.invoice(kind, 7), CLERK, s.NOW)
