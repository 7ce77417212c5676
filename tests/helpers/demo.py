"""The demo's data as tests find it: its company, purchases and users, and a status move."""

from __future__ import annotations

from typing import Any

import httpx

from purchasing.domain.actor import Actor
from purchasing.services.demo_data import MAIN, OTHER
from purchasing.services.users import load_actor
from purchasing.tables import AppUser, Company, Purchase
from tests.helpers.app import Clerk


async def main_company() -> int:
    """The id of the demo's main company (the one the demo's first users work for)."""
    row = await Company.select(Company.id).where(Company.name == MAIN.name).first()
    assert row is not None
    return int(row["id"])


async def other_company() -> int:
    """The id of the demo's other company (another business entirely)."""
    row = await Company.select(Company.id).where(Company.name == OTHER.name).first()
    assert row is not None
    return int(row["id"])


async def purchases_where(kind: str, **where: Any) -> set[int]:
    """The ids of the purchases of `kind` whose columns hold the values given."""
    query = Purchase.select(Purchase.id).where(Purchase.kind == kind)
    for name, value in where.items():
        query = query.where(getattr(Purchase, name) == value)
    return {row["id"] for row in await query}


async def a_purchase(kind: str, status: str, **where: Any) -> dict[str, Any]:
    """A demo purchase of `kind` in `status`, of the main company unless `company` is given."""
    where.setdefault("company", await main_company())
    query = Purchase.select().where((Purchase.kind == kind) & (Purchase.status == status))
    for name, value in where.items():
        query = query.where(getattr(Purchase, name) == value)
    row = await query.order_by(Purchase.id).first()
    assert row is not None, f"no demo {kind} purchase in {status}"
    return dict(row)


async def user_id(username: str) -> int:
    row = await AppUser.select(AppUser.id).where(AppUser.username == username).first()
    assert row is not None
    return int(row["id"])


async def actor_named(username: str) -> Actor:
    """The demo user `username` as the rules see them."""
    actor = await load_actor(await user_id(username))
    assert actor is not None
    return actor


async def move(
    clerk: Clerk, kind: str, purchase_id: int, status: str, notes: str = ""
) -> httpx.Response:
    row = await Purchase.select(Purchase.version).where(Purchase.id == purchase_id).first()
    assert row is not None
    form = {"status": status, "version": row["version"], "notes": notes}
    return await clerk.post(f"/purchases/{kind}/{purchase_id}/status", form, htmx=True)
