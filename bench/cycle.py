"""Open statuses move freely among themselves: the bench cycles purchases through them."""

from __future__ import annotations

OPEN_CYCLE = ("draft", "pending", "confirmed", "in_transit")


def next_open_status(status: str) -> str:
    """draft -> pending -> confirmed -> in_transit -> draft."""
    return OPEN_CYCLE[(OPEN_CYCLE.index(status) + 1) % len(OPEN_CYCLE)]
