"""The choices a purchase form offers an actor: farms, coops, flocks, partners, items, units."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from purchasing.domain.actor import Actor
from purchasing.domain.statuses import Kind
from purchasing.services.scope import company_ids, farm_filter
from purchasing.tables import Coop, Farm, Flock, Item, ItemUnit, Partner, Unit


@dataclass(frozen=True)
class Choice:
    id: int
    label: str
    company_id: int | None = None
    farm_id: int | None = None


@dataclass(frozen=True)
class ItemChoice:
    id: int
    label: str
    company_id: int
    unit_values: dict[int, Decimal]

    @property
    def smallest_unit_id(self) -> int:
        return min(self.unit_values, key=lambda unit_id: (self.unit_values[unit_id], unit_id))


@dataclass
class Catalog:
    farms: dict[int, Choice]
    coops: dict[int, Choice] = field(default_factory=dict)
    flocks: dict[int, Choice] = field(default_factory=dict)
    suppliers: dict[int, Choice] = field(default_factory=dict)
    expeditions: dict[int, Choice] = field(default_factory=dict)
    items: dict[int, ItemChoice] = field(default_factory=dict)
    units: dict[int, Choice] = field(default_factory=dict)

    def in_farm(self, choices: dict[int, Choice], farm_id: int | None) -> list[Choice]:
        return [c for c in choices.values() if c.farm_id == farm_id]

    def units_of(self, item: ItemChoice | None) -> list[Choice]:
        return [self.units[unit_id] for unit_id in item.unit_values] if item else []


async def load_catalog(actor: Actor, kind: Kind) -> Catalog:
    """Everything the actor may pick on a `kind` purchase form."""
    farms_q = Farm.select(Farm.id, Farm.code, Farm.name, Farm.company).order_by(Farm.code)
    clause = farm_filter(actor)
    if clause is not None:
        farms_q = farms_q.where(clause)
    farms = {
        f["id"]: Choice(f["id"], f"{f['code']} · {f['name']}", company_id=f["company"])
        for f in await farms_q
    }
    catalog = Catalog(farms=farms)
    farm_ids = sorted(farms) or [-1]
    coops = (
        await Coop.select(Coop.id, Coop.code, Coop.name, Coop.farm)
        .where(Coop.farm.is_in(farm_ids))
        .order_by(Coop.code)
    )
    catalog.coops = {
        c["id"]: Choice(c["id"], f"{c['code']} · {c['name']}", farm_id=c["farm"]) for c in coops
    }
    flocks = (
        await Flock.select(
            Flock.id,
            Flock.code,
            Flock.name,
            Flock.coop.farm.as_alias("farm"),
            Flock.coop.code.as_alias("coop"),
        )
        .where(Flock.coop.farm.is_in(farm_ids))
        .order_by(Flock.code)
    )
    catalog.flocks = {
        f["id"]: Choice(f["id"], f"{f['code']} · {f['name']} ({f['coop']})", farm_id=f["farm"])
        for f in flocks
    }
    await _load_partners(actor, catalog)
    await _load_items(actor, kind, catalog)
    return catalog


async def _load_partners(actor: Actor, catalog: Catalog) -> None:
    query = Partner.select(Partner.id, Partner.kind, Partner.name, Partner.company).order_by(
        Partner.name
    )
    companies = company_ids(actor)
    if companies is not None:
        query = query.where(Partner.company.is_in(companies))
    for p in await query:
        target = catalog.suppliers if p["kind"] == "supplier" else catalog.expeditions
        target[p["id"]] = Choice(p["id"], p["name"], company_id=p["company"])


async def _load_items(actor: Actor, kind: Kind, catalog: Catalog) -> None:
    if kind is Kind.LIVESTOCK:
        return
    query = Item.select(Item.id, Item.code, Item.name, Item.company).where(Item.kind == kind.value)
    companies = company_ids(actor)
    if companies is not None:
        query = query.where(Item.company.is_in(companies))
    items = await query.order_by(Item.name)
    values = await ItemUnit.select(ItemUnit.item, ItemUnit.unit, ItemUnit.value).where(
        ItemUnit.item.is_in([i["id"] for i in items] or [-1])
    )
    per_item: dict[int, dict[int, Decimal]] = {}
    for v in values:
        per_item.setdefault(v["item"], {})[v["unit"]] = Decimal(v["value"])
    catalog.items = {
        i["id"]: ItemChoice(
            i["id"], f"{i['name']} ({i['code']})", i["company"], per_item.get(i["id"], {})
        )
        for i in items
        if i["id"] in per_item
    }
    units = await Unit.select(Unit.id, Unit.code, Unit.name).order_by(Unit.code)
    catalog.units = {u["id"]: Choice(u["id"], u["code"]) for u in units}
