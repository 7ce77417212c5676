"""Which rows an actor may see: SuperAdmin all, Operators their farms, others their company."""

from __future__ import annotations

from typing import Any

from purchasing.domain.actor import Actor
from purchasing.domain.roles import Role
from purchasing.tables import Farm, OutboxEvent, Purchase

NOTHING = -1  # no row has this id: an Operator without farms sees nothing


def farm_filter(actor: Actor) -> Any | None:
    """A where-clause on Farm, or None when the actor sees every farm."""
    if actor.sees_everything:
        return None
    if actor.role is Role.OPERATOR:
        return Farm.id.is_in(sorted(actor.farm_ids) or [NOTHING])
    return Farm.company == actor.company_id


def purchase_filter(
    actor: Actor, table: type[Purchase] | type[OutboxEvent] = Purchase
) -> Any | None:
    """A where-clause on Purchase (or on the outbox's events about purchases), or None when the
    actor sees every purchase."""
    if actor.sees_everything:
        return None
    if actor.role is Role.OPERATOR:
        return table.farm.is_in(sorted(actor.farm_ids) or [NOTHING])
    return table.company == actor.company_id


def direct_scope(actor: Actor) -> tuple[str, dict[str, Any]]:
    """The same scope for `db_direct.FIND_PURCHASE`: which statement, and its parameters."""
    if actor.sees_everything:
        return "all", {}
    if actor.role is Role.OPERATOR:
        return "farms", {"farms": sorted(actor.farm_ids)}
    return "company", {"company": actor.company_id}


def company_ids(actor: Actor) -> list[int] | None:
    """Companies whose partners and items the actor may use; None means all."""
    if actor.sees_everything:
        return None
    return [actor.company_id] if actor.company_id is not None else [NOTHING]
