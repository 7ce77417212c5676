"""The schema comes from the migrations, and the migrations describe `tables.py` exactly."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

from piccolo.apps.migrations.commands.new import AutoMigrationManager
from piccolo.conf.apps import Finder

from purchasing import db
from purchasing.tables import ALL_TABLES


async def test_the_migrations_match_the_table_definitions() -> None:
    app_config = Finder().get_app_config("purchasing")
    alterations = await AutoMigrationManager().get_alter_statements(app_config=app_config)
    pending = [statement for alteration in alterations for statement in alteration.statements]
    assert pending == [], "tables.py changed without a migration: run piccolo migrations new --auto"


def test_the_migrated_database_has_every_table_and_unique_index(migrated_db_file: Path) -> None:
    with sqlite3.connect(migrated_db_file) as connection:
        names = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
    assert {table._meta.tablename for table in ALL_TABLES} <= names
    assert {"purchase_company_kind_invoice", "supply_line_purchase_item_unit"} <= names


async def test_migrating_again_changes_nothing(tmp_path: Path, migrated_db_file: Path) -> None:
    copy = tmp_path / "again.sqlite3"
    shutil.copy(migrated_db_file, copy)
    db.use_database(f"sqlite:///{copy}")
    await db.migrate()
    with sqlite3.connect(copy) as connection:
        ran = connection.execute("SELECT count(*) FROM migration").fetchone()[0]
    assert ran == len(
        list(Path(db.__file__).parents[2].joinpath("migrations").glob("purchasing_*.py"))
    )
