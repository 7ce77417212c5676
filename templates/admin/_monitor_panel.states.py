"""The monitor panel quiet and busy, figures made by the monitor's own snapshot."""

from typing import Any

from purchasing.domain.roles import Role
from purchasing.gallery.samples_live import monitor

STATES: dict[str, dict[str, Any]] = {
    "quiet: no events, no streams": {"monitor": monitor(), "workers": 1},
    "events but no page open (no delays to chart)": {"monitor": monitor(events=9), "workers": 1},
    "busy: 120 events, 14 streams, seen by an Administrator (their company's share)": {
        "monitor": monitor(events=120, streams=14),
        "workers": 1,
    },
    "busy, seen by the SuperAdmin (everything, and the counters)": {
        "monitor": monitor(events=120, streams=14, viewer=Role.SUPER_ADMIN),
        "workers": 1,
    },
    "busy, one of 4 workers, seen by the SuperAdmin": {
        "monitor": monitor(events=120, streams=14, viewer=Role.SUPER_ADMIN),
        "workers": 4,
    },
}
