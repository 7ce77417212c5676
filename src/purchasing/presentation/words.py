"""The words the page's scripts show (static/js/), in the reader's language: the layout gives
them to the page once, as JSON (templates/base.html.j2), and js/page.js `say`s them."""

from __future__ import annotations

from functools import cache
from typing import Any

from jinja2.utils import htmlsafe_json_dumps
from markupsafe import Markup

from purchasing import i18n
from purchasing.domain.statuses import Status
from purchasing.i18n import _, pgettext
from purchasing.presentation import toasts


def page_words_json() -> Markup:
    """`page_words()` as JSON safe in an HTML attribute, made once per language: every page
    carries it, and the words change only with the catalog."""
    return _encoded(i18n.current())


@cache
def _encoded(language: str) -> Markup:
    with i18n.use(language):
        return htmlsafe_json_dumps(page_words())


def page_words() -> dict[str, Any]:
    return {
        "connection": {
            "live": _("Live"),
            "connecting": _("Connecting…"),
            "reconnecting": _("Reconnecting…"),
            "offline": _("Offline"),
        },
        "errors": {
            "expired": _("Your session or form expired. Reload the page and try again."),
            "failed": _("The request failed (%(status)s). Reload the page and try again."),
            "unreachable": _("The server cannot be reached. Check the connection and try again."),
        },
        "table": {
            "row_changed": _("This purchase just changed: check it before you move it."),
            "late": _("The table has not refreshed for %(seconds)s seconds."),
            "failed": _("The table could not be refreshed (error %(status)s)."),
            "unreachable": _("The server could not be reached to refresh the table."),
        },
        "presence": {
            "viewing": pgettext("someone is", "viewing"),
            "editing": pgettext("someone is", "editing"),
        },
        "statuses": {status.value: status.label for status in Status},
        "toasts": toasts.patterns(),
    }
