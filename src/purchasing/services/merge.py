"""A three-way merge of an edit form: the purchase as the form was opened (base), as it is stored
now (theirs: someone saved meanwhile) and as the clerk typed it (mine).

The rule, for each header field and, line by line, for each field of a line:

- changed on one side only: that side's value;
- changed on both sides to the same value: that value;
- changed on both sides to different values: a conflict. The clerk's value stays in the form and
  the field is marked with the stored value, to be decided on the next save.

Lines are matched by their stored id (a line added on the form has none):

- a line only one side added is kept;
- a line one side removed and the other left as it was is removed;
- a line one side removed and the other changed is a conflict: the changed line stays, marked.

Values are compared as the form holds them (strings, numbers written the way a number field
shows them), so an unchanged field always compares equal.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

Values = Mapping[str, str]
Side = tuple[Values, Sequence[Values]]  # a version of the form: header values, lines
LINE_ID = "id"


class Clash(StrEnum):
    """Why a field or line is marked after a merge."""

    BOTH_CHANGED = "both_changed"  # the field: stored value differs from the clerk's
    REMOVED_THERE = "removed_there"  # the line: removed meanwhile, changed on the form
    CHANGED_THERE = "changed_there"  # the line: removed on the form, changed meanwhile


@dataclass(frozen=True)
class Marked:
    """A conflict: the form field (`invoice_number`, `lines-2-quantity`) or line (`lines-2`)
    and, for a field, the value stored now."""

    clash: Clash
    stored: str = ""


@dataclass
class Merged:
    values: dict[str, str]
    lines: list[dict[str, str]]
    conflicts: dict[str, Marked] = field(default_factory=dict)
    # Fields (and "lines") taken from the stored side: what the other clerk's save brought in.
    taken: list[str] = field(default_factory=list)

    def take(self, name: str) -> None:
        if name not in self.taken:
            self.taken.append(name)


def merge_value(base: str, theirs: str, mine: str) -> tuple[str, bool, bool]:
    """(the merged value, whether it conflicts, whether it was taken from theirs)."""
    if mine == theirs:
        return mine, False, False
    if mine == base:
        return theirs, False, True
    if theirs == base:
        return mine, False, False
    return mine, True, False


def merge(
    fields: Iterable[str],
    line_fields: Iterable[str],
    base: Side,
    theirs: Side,
    mine: Side,
) -> Merged:
    """Merge three versions of a form: each is (header values, lines)."""
    line_fields = tuple(line_fields)
    result = Merged(values={}, lines=[])
    for name in fields:
        value, clash, taken = merge_value(
            base[0].get(name, ""), theirs[0].get(name, ""), mine[0].get(name, "")
        )
        result.values[name] = value
        if clash:
            result.conflicts[name] = Marked(Clash.BOTH_CHANGED, theirs[0].get(name, ""))
        if taken:
            result.take(name)
    _merge_lines(line_fields, base[1], theirs[1], mine[1], result)
    return result


def _by_id(lines: Sequence[Values]) -> dict[str, Values]:
    return {line[LINE_ID]: line for line in lines if line.get(LINE_ID)}


def _same(a: Values, b: Values, line_fields: tuple[str, ...]) -> bool:
    return all(a.get(name, "") == b.get(name, "") for name in line_fields)


def _merge_lines(
    line_fields: tuple[str, ...],
    base: Sequence[Values],
    theirs: Sequence[Values],
    mine: Sequence[Values],
    result: Merged,
) -> None:
    base_ids, their_ids, my_ids = _by_id(base), _by_id(theirs), _by_id(mine)

    def add(line: Values, mark: Marked | None = None) -> None:
        key = f"lines-{len(result.lines)}"
        result.lines.append(dict(line))
        if mark is not None:
            result.conflicts[key] = mark

    for line in mine:
        line_id = line.get(LINE_ID, "")
        if line_id not in base_ids:  # added on the form (an unknown id is no id)
            add({**line, LINE_ID: ""})
        elif line_id in their_ids:
            _merge_line(line_fields, base_ids[line_id], their_ids[line_id], line, result)
        elif not _same(line, base_ids[line_id], line_fields):
            add({**line, LINE_ID: ""}, Marked(Clash.REMOVED_THERE))  # saved again as new
        else:
            result.take("lines")  # removed meanwhile, untouched here: stays removed
    for line_id, line in their_ids.items():
        if line_id in my_ids:
            continue
        if line_id not in base_ids:
            add(line)  # added meanwhile
            result.take("lines")
        elif not _same(line, base_ids[line_id], line_fields):
            add(line, Marked(Clash.CHANGED_THERE))


def _merge_line(
    line_fields: tuple[str, ...],
    base: Values,
    theirs: Values,
    mine: Values,
    result: Merged,
) -> None:
    merged = {LINE_ID: mine[LINE_ID]}
    clashes: dict[str, str] = {}
    for name in line_fields:
        value, clash, taken = merge_value(
            base.get(name, ""), theirs.get(name, ""), mine.get(name, "")
        )
        merged[name] = value
        if clash:
            clashes[name] = theirs.get(name, "")
        if taken:
            result.take("lines")
    key = f"lines-{len(result.lines)}"
    result.lines.append(merged)
    for name, stored in clashes.items():
        result.conflicts[f"{key}-{name}"] = Marked(Clash.BOTH_CHANGED, stored)
