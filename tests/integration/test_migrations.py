"""The schema comes from the migrations, and the migrations describe `tables.py` exactly. The same
migrations run unchanged on SQLite and on PostgreSQL."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from typing import Any

from piccolo.apps.migrations.commands.new import AutoMigrationManager
from piccolo.apps.migrations.tables import Migration
from piccolo.conf.apps import Finder
from piccolo.engine.sqlite import SQLiteEngine

from purchasing import db
from purchasing.tables import ALL_TABLES

MIGRATIONS = Path(db.__file__).parents[2] / "migrations"


def _unique_indexes() -> dict[str, str]:
    """The multi-column unique indexes the migrations create (single columns are `unique=True`),
    as the migration that creates them lists them."""
    for path in sorted(MIGRATIONS.glob("purchasing_*.py")):
        spec = importlib.util.spec_from_file_location(path.stem, path)
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        if hasattr(module, "UNIQUE_INDEXES"):
            return dict(module.UNIQUE_INDEXES)
    raise AssertionError("no migration creates the unique indexes")


UNIQUE_INDEXES = _unique_indexes()
# `CREATE UNIQUE INDEX name ON [public.]table [USING btree ](columns)`, as either engine says it
INDEX_TARGET = re.compile(r" ON (?:public\.)?(\w+) (?:USING btree )?(\(.*\))$")


async def test_the_migrations_match_the_table_definitions() -> None:
    app_config = Finder().get_app_config("purchasing")
    alterations = await AutoMigrationManager().get_alter_statements(app_config=app_config)
    pending = [statement for alteration in alterations for statement in alteration.statements]
    assert pending == [], "tables.py changed without a migration: run piccolo migrations new --auto"


async def rows(sql: str) -> list[dict[str, Any]]:
    return list(await Migration.raw(sql))


async def schema() -> dict[str, set[Any]]:
    """The tables, their columns, and the unique indexes of the database the tables are bound to,
    read from the engine's own catalogue."""
    if isinstance(db.current_engine(), SQLiteEngine):
        tables = await rows("SELECT name FROM sqlite_master WHERE type = 'table'")
        columns = await rows(
            'SELECT t.name AS "table", c.name, c.type, c."notnull", c.dflt_value, c.pk '
            "FROM sqlite_master AS t JOIN pragma_table_info(t.name) AS c WHERE t.type = 'table'"
        )
        indexes = await rows(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql LIKE 'CREATE UNIQUE%'"
        )
    else:
        tables = await rows(
            "SELECT table_name AS name FROM information_schema.tables "
            "WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"
        )
        columns = await rows(
            'SELECT table_name AS "table", column_name AS name, data_type, is_nullable, '
            "column_default FROM information_schema.columns WHERE table_schema = 'public'"
        )
        indexes = await rows(
            "SELECT indexname AS name, indexdef AS sql FROM pg_indexes "
            "WHERE schemaname = 'public' AND indexdef LIKE 'CREATE UNIQUE INDEX%'"
        )
    return {
        "tables": {t["name"] for t in tables},
        # (table, column, then how the engine describes the column)
        "columns": {tuple(c.values()) for c in columns},
        "unique indexes": {(i["name"], i["sql"]) for i in indexes},
    }


async def test_the_migrated_database_has_every_table_and_unique_index(
    migrated_database: str,
) -> None:
    found = await schema()
    assert {table._meta.tablename for table in ALL_TABLES} <= found["tables"]
    created = {}
    for name, sql in found["unique indexes"]:
        target = INDEX_TARGET.search(sql)
        assert target is not None, sql
        created[name] = " ".join(target.groups())
    assert {name: created.get(name) for name in UNIQUE_INDEXES} == UNIQUE_INDEXES
    for table in ALL_TABLES:
        columns = {column[1] for column in found["columns"] if column[0] == table._meta.tablename}
        assert columns == {column._meta.db_column_name for column in table._meta.columns}


async def test_migrating_again_changes_nothing(migrated_database: str) -> None:
    before = await schema()
    await db.migrate()
    assert await schema() == before
    assert await Migration.count() == len(list(MIGRATIONS.glob("purchasing_*.py")))
