"""The direct path's statements: written once with `:name` parameters, for either driver."""

from __future__ import annotations

from purchasing.db_direct import FIND_PURCHASE, INSERT_EVENT, LOCK_OUTBOX, Statement


def test_named_parameters_become_numbered_ones_for_postgres_in_order_of_first_use() -> None:
    statement = Statement("SELECT :b, :a, :b::int, 'x:y', a::text FROM t WHERE c = :c")
    assert statement.postgres == "SELECT $1, $2, $1::int, 'x:y', a::text FROM t WHERE c = $3"
    assert statement.postgres_args({"a": 1, "b": 2, "c": 3, "unused": 4}) == [2, 1, 3]
    assert statement.sqlite.startswith("SELECT :b, :a")


def test_each_engine_gets_its_own_locking() -> None:
    """PostgreSQL locks the purchase's row and the outbox; SQLite's write transaction already
    holds the database's lock, so it runs neither."""
    assert all(s.postgres.endswith("FOR UPDATE OF p") for s in FIND_PURCHASE.values())
    assert not any("FOR UPDATE" in s.sqlite for s in FIND_PURCHASE.values())
    assert LOCK_OUTBOX.sqlite == ""
    assert "pg_advisory_xact_lock($1)" in LOCK_OUTBOX.postgres
    assert INSERT_EVENT.names == [
        "type",
        "kind",
        "purchase",
        "company",
        "farm",
        "payload",
        "created_at",
    ]
