"""Each deployment's broker channel: named by its namespace, short enough for PostgreSQL."""

from __future__ import annotations

import pytest

from purchasing.live.brokers import channel_of
from purchasing.live.brokers.base import MAX_CHANNEL_BYTES


def test_a_channel_is_named_by_its_deployment() -> None:
    assert channel_of("north") == "purchasing_outbox:north"
    assert channel_of("north") != channel_of("south")


@pytest.mark.parametrize("namespace", ["n" * 32, "n" * 200, "ü" * 40])
def test_a_channel_name_fits_a_postgresql_identifier_whatever_its_namespace(
    namespace: str,
) -> None:
    """LISTEN cuts a longer name and pg_notify refuses it, so the two would never meet."""
    assert len(channel_of(namespace).encode()) <= MAX_CHANNEL_BYTES
    assert channel_of(namespace) != channel_of(namespace + "x")
