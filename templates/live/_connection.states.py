"""Each state of the connection indicator, with the labels live-share.js gives them."""

from typing import Any

FRAME = "topbar"

STATES: dict[str, dict[str, Any]] = {
    "live": {"state": "live", "label": "Live"},
    "connecting (as the page loads)": {"state": "reconnecting", "label": "Connecting…"},
    "reconnecting": {"state": "reconnecting", "label": "Reconnecting…"},
    "offline": {"state": "offline", "label": "Offline"},
}
