from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Integer

ID = "2026-12-02T05:55:59:557271"
VERSION = "1.38.0"
DESCRIPTION = "index outbox events by purchase"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="purchasing", description=DESCRIPTION
    )

    manager.alter_column(
        table_class_name="OutboxEvent",
        tablename="outbox_event",
        column_name="purchase",
        db_column_name="purchase",
        params={"index": True},
        old_params={"index": False},
        column_class=Integer,
        old_column_class=Integer,
        schema=None,
    )

    return manager
