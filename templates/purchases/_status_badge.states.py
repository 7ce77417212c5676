"""Every status of every kind, as its badge."""

from typing import Any

from purchasing.domain.statuses import Kind

STATES: dict[str, dict[str, Any]] = {
    f"{kind.value}: {status.label}": {"status": status} for kind in Kind for status in kind.statuses
}
