"""Each state of the connection indicator, with the labels js/tab-sharing.js gives them."""

from typing import Any

from purchasing.live.fanout import TooManyStreams

FRAME = "topbar"

STATES: dict[str, dict[str, Any]] = {
    "live": {"state": "live", "label": "Live"},
    "connecting (as the page loads)": {"state": "reconnecting", "label": "Connecting…"},
    "reconnecting": {"state": "reconnecting", "label": "Reconnecting…"},
    "offline": {"state": "offline", "label": "Offline"},
    "refused (too many live tabs)": {
        "state": "refused",
        "label": TooManyStreams.per_session(20).args[0],
    },
}
