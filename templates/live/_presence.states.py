"""The people beside a clerk on a purchase's page: nobody (hidden), one, several, long names."""

from typing import Any

STATES: dict[str, dict[str, Any]] = {
    "nobody else (hidden)": {"people": []},
    "one viewing": {"people": [{"name": "Siti Rahayu", "mode": "viewing"}]},
    "one editing, one viewing": {
        "people": [
            {"name": "Budi Santoso", "mode": "editing"},
            {"name": "Siti Rahayu", "mode": "viewing"},
        ]
    },
    "five, with a long name": {
        "people": [
            {"name": "Raden Mas Bagus Hadiningrat Wicaksono", "mode": "editing"},
            *({"name": name, "mode": "viewing"} for name in ("Ani", "Dedi", "Eko", "Wati")),
        ]
    },
    "the empty entry js/presence.js fills": {"people": [{"name": "", "mode": ""}]},
}
