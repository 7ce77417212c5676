"""What an error says to the clerk: its title by status, and the messages the app words itself."""

from __future__ import annotations

from typing import Any

TITLES = {
    400: "Cannot show that",
    403: "Not allowed",
    404: "Not found",
    405: "Not allowed",
    409: "Changed meanwhile",
}
NOT_FOUND = "There is nothing here, or it is not yours to see."
EXPIRED_FORM = "This form has expired or was not sent by this site. Reload the page and try again."


def error_context(status: int, message: str, reference: str = "") -> dict[str, Any]:
    """What an error page or fragment (`errors/_error.html.j2`) renders."""
    return {
        "status": status,
        "title": TITLES.get(status, "Error"),
        "message": message,
        "reference": reference,
    }
