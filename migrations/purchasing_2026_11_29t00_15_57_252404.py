from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-29T00:15:57:252404"
VERSION = "1.38.0"
DESCRIPTION = "composite unique indexes"

# Piccolo cannot declare multi-column unique constraints portably (SQLite has no
# ALTER TABLE ADD CONSTRAINT), so they are unique indexes, valid on SQLite and PostgreSQL.
UNIQUE_INDEXES = {
    "farm_company_code": "farm (company, code)",
    "coop_farm_code": "coop (farm, code)",
    "flock_coop_code": "flock (coop, code)",
    "partner_company_kind_code": "partner (company, kind, code)",
    "item_company_kind_code": "item (company, kind, code)",
    "item_unit_item_unit": "item_unit (item, unit)",
    "user_farm_user_farm": 'user_farm ("user", farm)',
    "purchase_company_kind_invoice": "purchase (company, kind, invoice_number)",
    "supply_line_purchase_item_unit": "supply_line (purchase, item, unit)",
    "feed_line_purchase_flock_item_unit": "feed_line (purchase, flock, item, unit)",
}


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="purchasing", description=DESCRIPTION
    )

    async def run():
        engine = engine_finder()
        for name, target in UNIQUE_INDEXES.items():
            await engine._run_in_new_connection(f"CREATE UNIQUE INDEX {name} ON {target}")

    async def run_backwards():
        engine = engine_finder()
        for name in UNIQUE_INDEXES:
            await engine._run_in_new_connection(f"DROP INDEX {name}")

    manager.add_raw(run)
    manager.add_raw_backwards(run_backwards)

    return manager
