"""A toast of each priority (from the event's own priority rule), a new purchase, and the empty
copy the layout holds for js/toasts.js to fill."""

from typing import Any

from purchasing.domain.statuses import Kind, Status
from purchasing.gallery.samples_live import toast

STATES: dict[str, dict[str, Any]] = {
    "high: arrived": {"toast": toast(Status.ARRIVED)},
    "high: livestock in coop": {"toast": toast(Status.IN_COOP, Status.ARRIVED, Kind.LIVESTOCK)},
    "medium: cancelled": {"toast": toast(Status.CANCELLED, Status.PENDING, Kind.FEED)},
    "low: completed": {"toast": toast(Status.COMPLETED, Status.ARRIVED)},
    "normal: confirmed": {"toast": toast(Status.CONFIRMED, Status.PENDING, Kind.FEED)},
    "normal: a new purchase": {"toast": toast(Status.DRAFT, None, Kind.LIVESTOCK)},
    "empty (the copy js/toasts.js fills)": {"toast": None},
}
