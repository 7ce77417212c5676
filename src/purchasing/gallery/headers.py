"""The comment header every partial starts with, saying what it is and what it takes.

    {#- What it is, in a sentence or more. Inputs: kind, row (Row), optional notice. -#}
    {#- What the macros are for. Macros: error(form, name), input(form, name, optional type). -#}

`Inputs:` (or `Macros:` for a file of macros) ends the header. Items are separated by commas;
`optional` marks an input a state may leave out (or a macro parameter with a default); a remark in
brackets may follow a name. `Inputs: none.` says the partial takes nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from purchasing.i18n import _

COMMENT = re.compile(r"\A\{#-?(.*?)-?#\}", re.DOTALL)
SECTION = re.compile(r"(?:^|\s)(Inputs|Macros): ")
INPUT = re.compile(r"(optional )?([A-Za-z_]\w*)(?: \((.+)\))?")
MACRO = re.compile(r"([A-Za-z_]\w*)\((.*)\)")
OPENING, CLOSING = "([{", ")]}"
EXAMPLE = "{#- What it is. Inputs: a, b (remark), optional c. -#}"


class HeaderError(ValueError):
    """A header missing or not in the format above; the message says what to write."""


@dataclass(frozen=True)
class Input:
    name: str
    optional: bool = False
    remark: str = ""


@dataclass(frozen=True)
class Macro:
    name: str
    params: tuple[Input, ...]


@dataclass(frozen=True)
class Header:
    summary: str
    inputs: tuple[Input, ...] = ()
    macros: tuple[Macro, ...] = ()

    @property
    def names(self) -> frozenset[str]:
        return frozenset(i.name for i in self.inputs)

    @property
    def required(self) -> frozenset[str]:
        return frozenset(i.name for i in self.inputs if not i.optional)


def parse_header(source: str) -> Header:
    """The header of a partial's source; HeaderError when it has none or it is malformed."""
    found = COMMENT.match(source)
    if found is None:
        raise HeaderError(
            _("no header comment on the first line: start with %(example)s", example=EXAMPLE)
        )
    text = " ".join(found.group(1).split())
    sections = list(SECTION.finditer(text))
    if len(sections) != 1:
        raise HeaderError(
            _("the header needs one 'Inputs:' (or 'Macros:') section: %(example)s", example=EXAMPLE)
        )
    section = sections[0]
    summary, listed = text[: section.start()].strip(), text[section.end() :]
    if not summary or not listed.endswith("."):
        raise HeaderError(
            _(
                "say what it is first, and end the inputs with a full stop: %(example)s",
                example=EXAMPLE,
            )
        )
    items = [] if listed == "none." else _split(listed.removesuffix("."))
    if section.group(1) == "Macros":
        return Header(summary, macros=tuple(_macro(item) for item in items))
    return Header(summary, inputs=tuple(_input(item) for item in items))


def _input(item: str) -> Input:
    found = INPUT.fullmatch(item)
    if found is None:
        raise HeaderError(
            _(
                "%(item)s is not an input: write `name`, `optional name (remark)`",
                item=repr(item),
            )
        )
    return Input(found.group(2), optional=bool(found.group(1)), remark=found.group(3) or "")


def _macro(item: str) -> Macro:
    found = MACRO.fullmatch(item)
    if found is None:
        raise HeaderError(
            _("%(item)s is not a macro: write `name(param, optional param)`", item=repr(item))
        )
    params = _split(found.group(2)) if found.group(2) else []
    return Macro(found.group(1), tuple(_input(param) for param in params))


def _split(text: str) -> list[str]:
    """Split at the commas outside brackets, so remarks may hold commas of their own."""
    items, depth, start = [], 0, 0
    for at, char in enumerate(text):
        depth += (char in OPENING) - (char in CLOSING)
        if char == "," and depth == 0:
            items.append(text[start:at].strip())
            start = at + 1
    items.append(text[start:].strip())
    if depth != 0 or not all(items):
        raise HeaderError(_("unbalanced brackets or an empty item in %(text)s", text=repr(text)))
    return items
