"""What an error says to the clerk: its title by status, and the messages the app words itself."""

from __future__ import annotations

from typing import Any

from purchasing.i18n import N_, _

# Marked here, translated when an error is shown (`error_context`).
TITLES = {
    400: N_("Cannot show that"),
    403: N_("Not allowed"),
    404: N_("Not found"),
    405: N_("Not allowed"),
    409: N_("Changed meanwhile"),
}
NOT_FOUND = N_("There is nothing here, or it is not yours to see.")
EXPIRED_FORM = N_(
    "This form has expired or was not sent by this site. Reload the page and try again."
)
# The messages above, worded in the reader's language when shown; any other message comes
# already worded by whoever raised it.
OWN_MESSAGES = frozenset({NOT_FOUND, EXPIRED_FORM})


def error_context(status: int, message: str, reference: str = "") -> dict[str, Any]:
    """What an error page or fragment (`errors/_error.html.j2`) renders."""
    return {
        "status": status,
        "title": _(TITLES[status]) if status in TITLES else _("Error"),
        "message": _(message) if message in OWN_MESSAGES else message,
        "reference": reference,
    }
