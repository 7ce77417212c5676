"""The 'Reload table' fallback: hidden as pages hold it, and shown with each reason
js/live-table.js gives."""

from typing import Any

STATES: dict[str, dict[str, Any]] = {
    "hidden (as the page holds it)": {"reason": ""},
    "shown: no refresh for 5 seconds": {"reason": "The table has not refreshed for 5 seconds."},
    "shown: refresh failed": {"reason": "The table could not be refreshed (error 502)."},
    "shown: server unreachable": {
        "reason": "The server could not be reached to refresh the table."
    },
}
