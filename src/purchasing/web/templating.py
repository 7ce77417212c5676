"""The Jinja environment: strict about missing variables, with the formatting filters."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import (
    BytecodeCache,
    Environment,
    FileSystemLoader,
    StrictUndefined,
    select_autoescape,
)
from jinja2.bccache import Bucket
from markupsafe import Markup

from purchasing import i18n
from purchasing.domain import money
from purchasing.domain.permissions import MONITORS, Action, can
from purchasing.domain.roles import Role
from purchasing.domain.statuses import Kind, Status
from purchasing.live.events import RESYNC
from purchasing.presentation import edits, words
from purchasing.settings import PROJECT_ROOT

TEMPLATES = PROJECT_ROOT / "templates"
# Rule errors (422) and version conflicts (409) carry a fragment to show in place.
HTMX_CONFIG = {
    "includeIndicatorStyles": False,
    "allowEval": False,
    "allowScriptTags": False,
    "historyCacheSize": 0,
    "refreshOnHistoryMiss": True,
    "selfRequestsOnly": True,
    "responseHandling": [
        {"code": "204", "swap": False},
        {"code": "[23]..", "swap": True},
        {"code": "409", "swap": True, "error": False},
        {"code": "422", "swap": True, "error": False},
        {"code": "[45]..", "swap": False, "error": True},
    ],
}
STATIC = PROJECT_ROOT / "static"


@lru_cache(maxsize=4096)
def _worded(language: str, message: str) -> tuple[Markup, bool]:
    text = Markup(i18n.translations(language).gettext(message))  # noqa: S704 (the catalog's)
    return text, "%" in text


def template_gettext(message: str, **values: Any) -> Markup:
    """Templates' `_`, as Jinja's newstyle one (the translation is markup, the values are
    escaped into it, `%%` is a percent sign) with each message's translation kept: a table row
    says some thirty of them, and Jinja's own wraps, escapes and formats every one on each
    call."""
    text, formats = _worded(i18n.current(), message)
    return text % values if formats else text


class CompiledTemplates(BytecodeCache):
    """Templates compiled once per process, whichever app's environment asks (the tests start
    hundreds of apps). Jinja checks each template's source against what was compiled, so an
    edited template is compiled again."""

    _compiled: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        if compiled := self._compiled.get(bucket.key):
            bucket.bytecode_from_string(compiled)

    def dump_bytecode(self, bucket: Bucket) -> None:
        self._compiled[bucket.key] = bucket.bytecode_to_string()


def jinja_environment(
    directory: Path = TEMPLATES, auto_reload: bool = False, dev_reload: bool = False
) -> Environment:
    """`dev_reload` marks pages for development's live reload (web/dev_reload.py)."""
    env = Environment(
        loader=FileSystemLoader(directory),
        autoescape=select_autoescape(["html", "j2"]),
        undefined=StrictUndefined,
        auto_reload=auto_reload,
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"],
        bytecode_cache=CompiledTemplates(),
    )
    # Text is marked `{{ _("...") }}` or `{% trans %}`, worded in the request's language
    # (purchasing/i18n.py); a trans block's line breaks and indents are not part of the message.
    env.policies["ext.i18n.trimmed"] = True
    env.install_gettext_callables(  # type: ignore[attr-defined]
        i18n.raw_gettext,
        i18n.raw_ngettext,
        newstyle=True,
        pgettext=i18n.raw_pgettext,
        npgettext=i18n.raw_npgettext,
    )
    env.globals.update(_=template_gettext, gettext=template_gettext)
    env.filters.update(
        rupiah=money.rupiah,
        number=money.number,
        day=money.format_date,
        moment=money.format_datetime,
        field_list=edits.changed_fields,
    )
    env.globals.update(
        Kind=Kind,
        Status=Status,
        Role=Role,
        Action=Action,
        can=can,
        kinds=list(Kind),
        # The typed events of the stream, which the page's scripts listen for.
        stream_events=[*(kind.event_type for kind in Kind), RESYNC],
        monitors=MONITORS,
        htmx_config=HTMX_CONFIG,
        dev_reload=dev_reload,
        current_language=i18n.current,
        languages=i18n.LANGUAGES,
        page_words=words.page_words_json,
    )
    return env
