"""The marker on an index row that someone is editing right now."""

from typing import Any

STATES: dict[str, dict[str, Any]] = {
    "one editor": {"editors": ["Budi Santoso"]},
    "two editors": {"editors": ["Budi Santoso", "Siti Rahayu"]},
    "the empty copy js/presence.js fills": {"editors": []},
}
