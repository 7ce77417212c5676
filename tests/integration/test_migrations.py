"""The schema comes from the migrations, and the migrations describe `tables.py` exactly. The same
migrations run unchanged on SQLite and on PostgreSQL."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from typing import Any

from piccolo.apps.migrations.commands.forwards import run_forwards
from piccolo.apps.migrations.commands.new import AutoMigrationManager
from piccolo.apps.migrations.tables import Migration
from piccolo.conf.apps import Finder
from piccolo.engine.sqlite import SQLiteEngine

from purchasing import db
from purchasing.db_autoincrement import autoincrement, is_autoincrement
from purchasing.domain.statuses import Kind, Status
from purchasing.services.changes import Changes
from purchasing.services.demo import seed_demo
from purchasing.services.status import change_status
from purchasing.tables import ALL_TABLES, OutboxEvent, Purchase, StatusHistory, SupplyLine
from tests.helpers.app import TEST_PASSWORDS
from tests.helpers.databases import SQLITE_ONLY
from tests.helpers.demo import a_purchase, actor_named

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


# The last migration before SQLite's tables got AUTOINCREMENT keys.
BEFORE_AUTOINCREMENT = "2026-12-02T13:50:00:000000"


async def sqlite_schema() -> dict[str, str]:
    """Each table's, index's and trigger's SQL by name (SQLite only)."""
    found = await rows(
        "SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%'"
    )
    return {row["name"]: row["sql"] for row in found}


async def every_row() -> dict[str, list[dict[str, Any]]]:
    return {
        table._meta.tablename: list(await table.select().order_by(table.id)) for table in ALL_TABLES
    }


@SQLITE_ONLY  # PostgreSQL's sequences never hand out an id twice
async def test_every_table_of_a_migrated_sqlite_database_never_reuses_an_id(
    migrated_database: str,
) -> None:
    tables = {
        name: sql
        for name, sql in (await sqlite_schema()).items()
        if sql.startswith("CREATE TABLE") and name != Migration._meta.tablename
    }
    assert {table._meta.tablename for table in ALL_TABLES} <= tables.keys()
    assert [name for name, sql in tables.items() if not is_autoincrement(sql)] == []


@SQLITE_ONLY  # the rebuild is SQLite's alone
async def test_giving_sqlite_tables_autoincrement_keeps_every_row_index_and_reference(
    blank_database: str,
) -> None:
    assert (await run_forwards("purchasing", migration_id=BEFORE_AUTOINCREMENT)).success
    await seed_demo(per_kind=8, password_profile=TEST_PASSWORDS)
    # A hole where a purchase was, as a database in use has.
    doomed = await Purchase.select(Purchase.id).order_by(Purchase.id).first()
    await Purchase.delete().where(Purchase.id == doomed["id"])
    schema, contents = await sqlite_schema(), await every_row()

    await db.migrate()

    assert await every_row() == contents
    after = await sqlite_schema()
    assert all(is_autoincrement(after[table._meta.tablename]) for table in ALL_TABLES)
    assert {name: sql.replace(" AUTOINCREMENT", "") for name, sql in after.items()} == schema
    assert await rows("PRAGMA foreign_key_check") == []
    # Foreign keys still cascade: a purchase takes its lines and history with it, and only its.
    line = await SupplyLine.select(SupplyLine.purchase).order_by(SupplyLine.id).first()
    purchase = line["purchase"]
    others = await SupplyLine.count().where(SupplyLine.purchase != purchase)
    assert await StatusHistory.count().where(StatusHistory.purchase == purchase) > 0
    await Purchase.delete().where(Purchase.id == purchase)
    assert await SupplyLine.count().where(SupplyLine.purchase == purchase) == 0
    assert await StatusHistory.count().where(StatusHistory.purchase == purchase) == 0
    assert await SupplyLine.count() == others


@SQLITE_ONLY  # PostgreSQL's sequences never hand out an id twice
async def test_the_id_of_a_purchase_deleted_before_the_migration_is_not_handed_out_again(
    blank_database: str,
) -> None:
    assert (await run_forwards("purchasing", migration_id=BEFORE_AUTOINCREMENT)).success
    await seed_demo(per_kind=2, password_profile=TEST_PASSWORDS)
    newest = await Purchase.select(Purchase.id).order_by(Purchase.id, ascending=False).first()
    await OutboxEvent(type="deleted", kind="supply", purchase=newest["id"], payload="{}").save()
    await Purchase.delete().where(Purchase.id == newest["id"])

    await db.migrate()

    made = Purchase(**(await Purchase.select().where(Purchase.id < newest["id"]).first()))
    made.id, made.invoice_number = None, "AFTER/MIGRATION/1"  # type: ignore[assignment]
    await made.save()
    assert made.id > newest["id"]


@SQLITE_ONLY  # the rebuild is SQLite's alone
async def test_migrating_a_database_whose_tables_have_autoincrement_changes_nothing(
    database: str,
) -> None:
    schema, contents = await sqlite_schema(), await every_row()
    assert await autoincrement(table._meta.tablename for table in ALL_TABLES) == []
    assert (await sqlite_schema(), await every_row()) == (schema, contents)


@SQLITE_ONLY  # the rebuild is SQLite's alone
async def test_a_rebuild_runs_beside_the_apps_open_reader_and_writer(database: str) -> None:
    """The app keeps a reader and a writer connection open while it runs; neither holds a
    transaction between statements, so the rebuild's own connection never waits on them."""
    engine = db.current_engine()
    await db.start(engine)
    try:
        supervisor = await actor_named("supervisor")
        p = await a_purchase("supply", "draft")
        await change_status(
            Changes(), Kind.SUPPLY, p["id"], Status.PENDING, p["version"], "", supervisor
        )
        await Migration.raw("CREATE TABLE scratch (id INTEGER PRIMARY KEY NOT NULL, note TEXT)")
        await Migration.raw("INSERT INTO scratch (id, note) VALUES (7, 'kept')")
        assert await autoincrement(["scratch"]) == ["scratch"]
        assert await rows("SELECT id, note FROM scratch") == [{"id": 7, "note": "kept"}]
        await change_status(
            Changes(), Kind.SUPPLY, p["id"], Status.CONFIRMED, p["version"] + 1, "", supervisor
        )
    finally:
        await db.stop(engine)
    assert is_autoincrement((await sqlite_schema())["scratch"])
