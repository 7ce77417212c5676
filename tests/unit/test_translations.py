"""Every message a person reads has its Indonesian translation, with the same values in it, and
the compiled catalog is the one in the repository. The messages are extracted afresh from the
code and templates, as `make i18n` does: a message added without running it fails here too."""

from __future__ import annotations

import re
from functools import cache

from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from purchasing import i18n
from purchasing.settings import PROJECT_ROOT

LANGUAGES = [language for language in i18n.LANGUAGES if language != i18n.SOURCE]
PLACE = re.compile(r"%\(\w+\)[sd]")

Key = tuple[str | None, str]  # (context, message id)


@cache
def extracted() -> dict[Key, str]:
    """Each message in the code and templates, with where it was first found."""
    with open(i18n.LOCALE_DIR / "babel.cfg", encoding="utf-8") as config:
        method_map, options_map = parse_mapping_cfg(config)
    found: dict[Key, str] = {}
    for filename, lineno, message, _comments, context in extract_from_dir(
        PROJECT_ROOT, method_map, options_map
    ):
        msgid = message[0] if isinstance(message, tuple) else message
        found.setdefault((context, msgid), f"{filename}:{lineno}")
    return found


@cache
def catalog(language: str) -> Catalog:
    path = i18n.LOCALE_DIR / language / "LC_MESSAGES" / f"{i18n.DOMAIN}.po"
    with open(path, "rb") as po:
        return read_po(po, locale=language)


def translated(message: Message | None) -> bool:
    if message is None or message.fuzzy:
        return False
    forms = message.string if isinstance(message.string, tuple) else (message.string,)
    return all(forms)


def test_there_are_messages_to_translate() -> None:
    assert len(extracted()) > 300
    assert (None, "Cancelled") in extracted()


def test_every_message_has_its_translation() -> None:
    for language in LANGUAGES:
        missing = [
            f"{where}: {msgid!r}"
            for (context, msgid), where in extracted().items()
            if not translated(catalog(language).get(msgid, context=context))
        ]
        assert missing == [], (
            f"{len(missing)} messages have no {i18n.LANGUAGES[language]} translation: run "
            "`make i18n`, then translate them in "
            f"src/purchasing/locale/{language}/LC_MESSAGES/messages.po:\n" + "\n".join(missing)
        )


def test_each_translation_keeps_the_values_its_message_names() -> None:
    for language in LANGUAGES:
        wrong = []
        for message in catalog(language):
            if not message.id or not translated(message):
                continue
            ids = message.id if isinstance(message.id, tuple) else (message.id,)
            forms = message.string if isinstance(message.string, tuple) else (message.string,)
            wanted = set(PLACE.findall(ids[-1]))
            wrong += [
                f"{ids[0]!r} -> {form!r}" for form in forms if set(PLACE.findall(form)) != wanted
            ]
        assert wrong == [], "\n".join(wrong)


def test_the_app_shows_every_translation_the_repositorys_catalog_holds() -> None:
    """What the app compiles in memory from each `.po` is every translated message of it."""
    for language in LANGUAGES:
        stale = []
        with i18n.use(language):
            for message in catalog(language):
                if not message.id or isinstance(message.id, tuple) or not translated(message):
                    continue
                shown = (
                    i18n.pgettext(message.context, message.id)
                    if message.context
                    else i18n.gettext(message.id)
                )
                if shown != message.string:
                    stale.append(message.id)
        assert stale == [], f"not shown as translated: {stale[:5]} ..."
