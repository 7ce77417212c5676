"""Loading the demo: companies, farms, catalog, a user per role, purchases in every status."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

from purchasing.db import write_transaction
from purchasing.domain.actor import Actor
from purchasing.domain.statuses import STATUS_LABELS, Kind, Status
from purchasing.services.catalog import Catalog, Choice, load_catalog
from purchasing.services.changes import Changes
from purchasing.services.demo_data import (
    COMPANIES,
    ITEMS,
    MAIN,
    PATHS,
    PREFIX,
    STRAINS,
    UNITS,
    USERS,
    DemoCompany,
)
from purchasing.services.passwords import DEFAULT_PROFILE
from purchasing.services.purchase_form import PurchaseForm
from purchasing.services.purchases import create_purchase
from purchasing.services.status import change_status
from purchasing.services.users import create_user
from purchasing.tables import (
    AppUser,
    Company,
    Coop,
    Farm,
    Flock,
    Item,
    ItemUnit,
    Partner,
    Purchase,
    Unit,
)


async def database_is_empty() -> bool:
    return not (await AppUser.exists() or await Purchase.exists())


async def seed_demo(
    today: date | None = None,
    per_kind: int = MAIN.purchases_per_kind,
    password_profile: str = DEFAULT_PROFILE,
) -> bool:
    """Create the demo data once; return False when it is already there. Its purchases get
    their history through real changes, which nobody is told of (pages read them from the
    outbox)."""
    if await Company.exists().where(Company.name == MAIN.name):
        return False
    changes = Changes()
    today = today or date.today()
    async with write_transaction():
        units = await _seed_units()
        for company in COMPANIES:
            row = Company(name=company.name)
            await row.save()
            await _seed_places(row.id, company, today)
            await _seed_partners_and_items(row.id, company, units)
    actors = {}
    for user in USERS:
        actors[user.username] = await create_user(
            user.username,
            user.password,
            user.role,
            company_name=user.company,
            farm_codes=user.farms,
            password_profile=password_profile,
        )
    rng = random.Random(2026)  # noqa: S311 - repeatable demo figures, not secrets
    for company in (replace(MAIN, purchases_per_kind=per_kind), *COMPANIES[1:]):
        for kind in Kind:
            clerk, closer = actors[company.clerk], actors[company.closer]
            await _seed_purchases(changes, kind, company, clerk, closer, today, rng)
    return True


async def _seed_units() -> dict[str, int]:
    ids = {}
    for code, name in UNITS:
        unit = Unit(code=code, name=name)
        await unit.save()
        ids[code] = unit.id
    return ids


async def _seed_places(company_id: int, company: DemoCompany, today: date) -> None:
    for code, name, address in company.farms:
        farm = Farm(company=company_id, code=code, name=name, address=address, capacity=40000)
        await farm.save()
        for n in (1, 2):
            coop = Coop(
                farm=farm.id, code=f"K{n:02d}", name=f"Kandang {n}", capacity=20000, population=0
            )
            await coop.save()
            await Flock(
                coop=coop.id,
                code=f"{code}-K{n:02d}-A",
                name=f"Flock {code} Kandang {n}",
                start_date=today - timedelta(days=20 * n),
                population=18000,
            ).save()


async def _seed_partners_and_items(
    company_id: int, company: DemoCompany, units: dict[str, int]
) -> None:
    for kind, partners in (("supplier", company.suppliers), ("expedition", company.expeditions)):
        for code, name in partners:
            await Partner(
                company=company_id, kind=kind, code=code, name=name, phone="0812-0000-0000"
            ).save()
    for kind, code, name, base, values in ITEMS:
        item = Item(
            company=company_id, kind=kind.value, code=code, name=name, base_unit=units[base]
        )
        await item.save()
        for unit_code, value in values.items():
            await ItemUnit(item=item.id, unit=units[unit_code], value=Decimal(value)).save()


async def _seed_purchases(
    changes: Changes,
    kind: Kind,
    company: DemoCompany,
    clerk: Actor,
    closer: Actor,
    today: date,
    rng: random.Random,
) -> None:
    catalog = await load_catalog(clerk, kind)
    statuses = kind.statuses
    for n in range(company.purchases_per_kind):
        farm = list(catalog.farms.values())[n % len(catalog.farms)]
        form = PurchaseForm(
            kind,
            values=_header(kind, company, n, farm, catalog, today, rng),
            lines=_lines(kind, farm, catalog, rng),
        )
        purchase_id = await create_purchase(changes, form, clerk, catalog=catalog)
        version = 1
        target = statuses[n % len(statuses)]
        path = PATHS[target]
        if kind is Kind.LIVESTOCK and target is Status.COMPLETED:
            path = (*PATHS[Status.IN_COOP], Status.COMPLETED)
        for step in path:
            actor = closer if step is Status.COMPLETED else clerk
            # Data, kept in English whatever the language: as a clerk typed it.
            note = f"Demo: {STATUS_LABELS[step].lower()}" if step.needs_note else ""
            change = await change_status(
                changes, kind, purchase_id, step, version, note, actor, "127.0.0.1", "seed-demo"
            )
            version = change.version


def _header(
    kind: Kind,
    company: DemoCompany,
    n: int,
    farm: Choice,
    catalog: Catalog,
    today: date,
    rng: random.Random,
) -> dict[str, str]:
    coop = catalog.in_farm(catalog.coops, farm.id)[n % 2]
    expedition = rng.choice([None, *catalog.expeditions.values()])
    return {
        "invoice_number": f"{company.invoice_prefix}/{PREFIX[kind]}/{today.year}/{n + 1:04d}",
        "do_number": f"DO-{rng.randint(10000, 99999)}" if n % 3 else "",
        "purchase_date": (today - timedelta(days=rng.randint(0, 90))).isoformat(),
        "farm": str(farm.id),
        "coop": str(coop.id),
        "supplier": str(rng.choice(list(catalog.suppliers.values())).id),
        "expedition": str(expedition.id) if expedition else "",
        "expedition_fee": str(rng.choice([0, 150000, 250000, 500000])) if expedition else "0",
    }


def _lines(kind: Kind, farm: Choice, catalog: Catalog, rng: random.Random) -> list[dict[str, str]]:
    if kind is Kind.LIVESTOCK:
        return [
            {
                "strain": strain,
                "head_count": str(rng.choice([2000, 5000, 8000, 10000])),
                "price_given": "per_head",
                "price": str(rng.choice([6500, 7200, 7800, 8500])),
                "weight_given": "per_head",
                "weight": str(rng.choice([38, 40, 42])),
                "tax_percent": rng.choice(["0", "11"]),
            }
            for strain in rng.sample(STRAINS, rng.randint(1, 3))
        ]
    flocks = catalog.in_farm(catalog.flocks, farm.id)
    lines = []
    for item in rng.sample(list(catalog.items.values()), rng.randint(1, 2)):
        unit_id = max(item.unit_values, key=lambda u: item.unit_values[u])
        line = {
            "item": str(item.id),
            "unit": str(unit_id),
            "quantity": str(rng.randint(1, 40)),
            "price": str(rng.choice([45000, 120000, 385000, 425000])),
        }
        if kind is Kind.FEED:
            line["flock"] = str(rng.choice(flocks).id)
        lines.append(line)
    return lines
