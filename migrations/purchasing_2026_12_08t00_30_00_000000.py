from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from purchasing.db_autoincrement import autoincrement, past_every_known_purchase

ID = "2026-12-08T00:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "ids never handed out twice on SQLite"

# Every table there is now. SQLite gave a deleted row's id to the next row inserted; a migration
# that adds a table calls `autoincrement` for it too (a test checks every table).
TABLES = (
    "company",
    "app_user",
    "farm",
    "user_farm",
    "coop",
    "flock",
    "partner",
    "unit",
    "item",
    "item_unit",
    "purchase",
    "supply_line",
    "feed_line",
    "livestock_line",
    "status_history",
    "outbox_event",
)


async def forwards():
    # No transaction of Piccolo's around it: the rebuild makes its own, on a connection of its
    # own, because foreign keys must be off for it and cannot change inside a transaction.
    manager = MigrationManager(
        migration_id=ID,
        app_name="purchasing",
        description=DESCRIPTION,
        wrap_in_transaction=False,
    )

    async def run():
        await autoincrement(TABLES)
        await past_every_known_purchase()

    manager.add_raw(run)

    return manager
