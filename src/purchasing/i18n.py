"""The languages people read the app in: Bahasa Indonesia and English.

English is the source language: messages are written in English in the code and templates, marked
with `_` (or `ngettext`, `pgettext`, and `N_` for a message translated where it is used), and
translated through Babel's gettext catalogs in `locale/` (`make i18n` extracts and updates them).
Each catalog is read from its `.po` file once, when first used, so the app speaks every language
however it was installed. The language in use belongs to the request or command at hand: `use`
sets it, and every `_` reads it, so a message is worded for whoever it is shown to.

Messages take named values, `%`-style: `_("Set by %(name)s.", name=who)`, as Jinja's `_` does.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from io import BytesIO
from pathlib import Path
from typing import Any

from babel.core import negotiate_locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "messages"
SOURCE = "en"
# Each language by its own name, as the switch offers it.
LANGUAGES = {"id": "Bahasa Indonesia", "en": "English"}
MAX_HEADER = 512  # of Accept-Language read; a longer one is cut there

_language: ContextVar[str] = ContextVar("language", default=SOURCE)


class CatalogMissing(RuntimeError):
    """A language's catalog cannot be read: the package was installed without its locale files."""


@cache
def translations(language: str) -> NullTranslations:
    """The catalog of `language`, compiled in memory from its `.po` file as `pybabel compile`
    would (fuzzy entries left out). English needs none: it is the source."""
    if language == SOURCE:
        return NullTranslations()
    source = LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    try:
        with source.open("rb") as po:
            catalog = read_po(po, locale=language, domain=DOMAIN)
    except OSError as error:
        raise CatalogMissing(
            f"The {LANGUAGES.get(language, language)} catalog cannot be read ({source}: "
            f"{error.strerror}). Reinstall the package from its source, with its locale files "
            "(pip install -e . or make install)."
        ) from None
    compiled = BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


def check_catalogs() -> None:
    """Read every language's catalog now: a server must refuse to start without one, rather than
    fail each request made in that language."""
    for language in LANGUAGES:
        translations(language)


def current() -> str:
    return _language.get()


@contextmanager
def use(language: str) -> Iterator[None]:
    """Word everything in `language` (one of LANGUAGES) inside the block."""
    translations(language)  # fails here, not half-way through a page
    token = _language.set(language)
    try:
        yield
    finally:
        _language.reset(token)


def activate(language: str) -> None:
    """`use` for the rest of the current task or thread's context (a request, a command)."""
    translations(language)
    _language.set(language)


def _format(text: str, values: Mapping[str, Any]) -> str:
    return text % values if values else text


def _(message: str, **values: Any) -> str:
    """`message` in the current language, with `values` put in its `%(name)s` places."""
    return _format(translations(current()).gettext(message), values)


gettext = _


def ngettext(singular: str, plural: str, n: int, **values: Any) -> str:
    """The form for `n` (given to the message as `num`, as Jinja's does)."""
    text = translations(current()).ngettext(singular, plural, n)
    return _format(text, {"num": n, **values})


def pgettext(context: str, message: str, **values: Any) -> str:
    """`message` as meant in `context` (one English word, two meanings)."""
    return _format(str(translations(current()).pgettext(context, message)), values)


def npgettext(context: str, singular: str, plural: str, n: int, **values: Any) -> str:
    text = translations(current()).npgettext(context, singular, plural, n)
    return _format(text, {"num": n, **values})


def N_(message: str) -> str:
    """Mark `message` for the catalog where it is defined; `_` translates it where it is used."""
    return message


# For Jinja's i18n extension (newstyle: it formats the values and escapes them itself).
def raw_gettext(message: str) -> str:
    return translations(current()).gettext(message)


def raw_ngettext(singular: str, plural: str, n: int) -> str:
    return translations(current()).ngettext(singular, plural, n)


def raw_pgettext(context: str, message: str) -> str:
    return str(translations(current()).pgettext(context, message))


def raw_npgettext(context: str, singular: str, plural: str, n: int) -> str:
    return translations(current()).npgettext(context, singular, plural, n)


def negotiate(preferred: list[str], default: str = SOURCE) -> str:
    """The first of `preferred` (language tags, best first) that the app speaks, else
    `default`."""
    tags = [tag.replace("_", "-").split(".")[0].lower() for tag in preferred if tag]
    return negotiate_locale(tags, list(LANGUAGES), sep="-") or default


def from_accept_language(header: str, default: str = SOURCE) -> str:
    """The language an Accept-Language header asks for first among those the app speaks.
    Malformed parts are ignored; a header that names none of them gives `default`."""
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(header[:MAX_HEADER].split(",")):
        tag, _sep, params = part.strip().partition(";")
        weight = 1.0
        if params.strip().startswith("q="):
            try:
                weight = float(params.strip()[2:])
            except ValueError:
                continue
        if tag and weight > 0 and tag.replace("-", "").isalpha():
            ranked.append((-weight, position, tag))
    return negotiate([tag for _w, _p, tag in sorted(ranked)], default)


def from_environment(env: Mapping[str, str] | None = None) -> str:
    """The language of a command run in a shell: LANGUAGE, LC_ALL, LC_MESSAGES or LANG."""
    env = os.environ if env is None else env
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        if env.get(name):
            return negotiate(env[name].split(":"))
    return SOURCE
