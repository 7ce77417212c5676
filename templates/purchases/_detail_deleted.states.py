"""A detail page whose purchase someone deleted meanwhile."""

from typing import Any

from purchasing.domain.statuses import Kind
from purchasing.gallery.samples_detail import deleted

STATES: dict[str, dict[str, Any]] = {
    f"{kind.value}, deleted by another clerk": {"gone": deleted(kind)} for kind in Kind
}
