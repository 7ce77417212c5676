"""The only writer of purchase statuses."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from purchasing.db import write_transaction
from purchasing.domain.actor import Actor
from purchasing.domain.statuses import Kind, Status, check_move
from purchasing.services.errors import Conflict
from purchasing.services.purchases import find_purchase
from purchasing.tables import Purchase, StatusHistory


@dataclass(frozen=True)
class StatusChange:
    kind: Kind
    purchase_id: int
    invoice_number: str
    farm_id: int
    old_status: Status
    new_status: Status
    version: int
    changed_at: datetime
    changed_by: Actor


class StaleVersion(Conflict):
    def __init__(self, current_status: Status, current_version: int) -> None:
        super().__init__(
            f"Someone else changed this purchase meanwhile; it is now {current_status.label}. "
            "Check the row and try again."
        )
        self.current_status = current_status
        self.current_version = current_version


async def change_status(
    kind: Kind,
    purchase_id: int,
    new_status: Status,
    expected_version: int,
    notes: str,
    actor: Actor,
    client_ip: str = "",
    user_agent: str = "",
) -> StatusChange:
    """Move a purchase to `new_status` if the rules allow it and nobody changed it since
    `expected_version`; bump its version and write the history row, all in one transaction."""
    notes = notes.strip()
    async with write_transaction():
        row = await find_purchase(kind, purchase_id, actor)
        current = Status(row["status"])
        if row["version"] != expected_version:
            raise StaleVersion(current, row["version"])
        check_move(kind, current, new_status, actor.role, notes)
        now = datetime.now(UTC)
        updated = (
            await Purchase.update(
                {
                    Purchase.status: new_status.value,
                    Purchase.version: Purchase.version + 1,
                    Purchase.updated_by: actor.id,
                    Purchase.updated_at: now,
                }
            )
            .where((Purchase.id == purchase_id) & (Purchase.version == expected_version))
            .returning(Purchase.version)
        )
        if not updated:
            raise StaleVersion(current, expected_version + 1)
        await StatusHistory(
            purchase=purchase_id,
            from_status=current.value,
            to_status=new_status.value,
            notes=notes,
            changed_by=actor.id,
            changed_at=now,
            client_ip=client_ip[:64],
            user_agent=user_agent[:255],
        ).save()
    return StatusChange(
        kind=kind,
        purchase_id=purchase_id,
        invoice_number=row["invoice_number"],
        farm_id=row["farm"],
        old_status=current,
        new_status=new_status,
        version=int(updated[0]["version"]),
        changed_at=now,
        changed_by=actor,
    )
