"""English left in a page meant to be read in Indonesian: the words of the app's English
messages that none of its Indonesian translations uses, found in the page's text or in the
attributes people hear or see (labels, titles, placeholders)."""

from __future__ import annotations

import re
from functools import cache
from html.parser import HTMLParser

from babel.messages.pofile import read_po

from purchasing import i18n

WORD = re.compile(r"[A-Za-z]{3,}")
PLACE = re.compile(r"%\(\w+\)[sd]")
READ_ATTRIBUTES = ("aria-label", "title", "placeholder", "alt", "data-label")
SKIPPED = {"script", "style"}


@cache
def english_only() -> frozenset[str]:
    with open(i18n.LOCALE_DIR / "id" / "LC_MESSAGES" / f"{i18n.DOMAIN}.po", "rb") as po:
        catalog = read_po(po, locale="id")
    english: set[str] = set()
    indonesian: set[str] = set()
    for message in catalog:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        forms = message.string if isinstance(message.string, tuple) else (message.string,)
        for text, words in [*((i, english) for i in ids), *((f, indonesian) for f in forms)]:
            words.update(w.lower() for w in WORD.findall(PLACE.sub(" ", text)))
    return frozenset(english - indonesian)


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.skipping = 0
        self.read: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in SKIPPED:
            self.skipping += 1
        self.read += [value or "" for name, value in attrs if name in READ_ATTRIBUTES]

    def handle_endtag(self, tag: str) -> None:
        if tag in SKIPPED:
            self.skipping -= 1

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.read.append(data)


def english_in(page: str, allowed: frozenset[str] = frozenset()) -> set[str]:
    """The English-only words `page` shows (lowercased), but for `allowed` (data: names)."""
    reader = _Reader()
    reader.feed(page)
    shown = {w.lower() for text in reader.read for w in WORD.findall(text)}
    return (shown & english_only()) - allowed
