"""The edit form's three-way merge, rule by rule: header fields, then lines matched by id."""

from __future__ import annotations

import pytest

from purchasing.services.merge import Clash, Marked, merge, merge_value

FIELDS = ("supplier", "notes")
LINE_FIELDS = ("item", "quantity")


@pytest.mark.parametrize(
    ("base", "theirs", "mine", "merged", "conflict", "taken"),
    [
        ("a", "a", "a", "a", False, False),  # nobody changed it
        ("a", "a", "b", "b", False, False),  # only the clerk: theirs
        ("a", "b", "a", "b", False, True),  # only the other side: theirs
        ("a", "b", "b", "b", False, False),  # both, to the same value
        ("a", "b", "c", "c", True, False),  # both, differently: conflict, the clerk's kept
        ("", "b", "c", "c", True, False),  # an empty field filled on both sides
        ("a", "", "a", "", False, True),  # cleared on the other side
        ("a", "", "c", "c", True, False),  # cleared there, changed here
    ],
)
def test_one_field(
    base: str, theirs: str, mine: str, merged: str, conflict: bool, taken: bool
) -> None:
    assert merge_value(base, theirs, mine) == (merged, conflict, taken)


def line(line_id: str, item: str, quantity: str) -> dict[str, str]:
    return {"id": line_id, "item": item, "quantity": quantity}


BASE_LINES = [line("1", "vit", "10"), line("2", "dis", "5")]


@pytest.mark.parametrize(
    ("case", "theirs", "mine", "lines", "conflicts"),
    [
        (
            "a quantity changed here, an item there: both kept",
            [line("1", "vit", "10"), line("2", "ovk", "5")],
            [line("1", "vit", "12"), line("2", "dis", "5")],
            [line("1", "vit", "12"), line("2", "ovk", "5")],
            {},
        ),
        (
            "the same quantity changed differently: conflict on that field",
            [line("1", "vit", "11"), line("2", "dis", "5")],
            [line("1", "vit", "12"), line("2", "dis", "5")],
            [line("1", "vit", "12"), line("2", "dis", "5")],
            {"lines-0-quantity": Marked(Clash.BOTH_CHANGED, "11")},
        ),
        (
            "a line added on each side: both kept, the new one without an id",
            [*BASE_LINES, line("3", "pkn", "1")],
            [*BASE_LINES, line("", "vak", "2")],
            [*BASE_LINES, line("", "vak", "2"), line("3", "pkn", "1")],
            {},
        ),
        (
            "removed there, untouched here: removed",
            [line("1", "vit", "10")],
            BASE_LINES,
            [line("1", "vit", "10")],
            {},
        ),
        (
            "removed here, untouched there: removed",
            BASE_LINES,
            [line("2", "dis", "5")],
            [line("2", "dis", "5")],
            {},
        ),
        (
            "removed there, changed here: the clerk's line stays, marked, saved as new",
            [line("1", "vit", "10")],
            [line("1", "vit", "10"), line("2", "dis", "7")],
            [line("1", "vit", "10"), line("", "dis", "7")],
            {"lines-1": Marked(Clash.REMOVED_THERE)},
        ),
        (
            "removed here, changed there: the stored line comes back, marked",
            [line("1", "vit", "10"), line("2", "dis", "9")],
            [line("1", "vit", "10")],
            [line("1", "vit", "10"), line("2", "dis", "9")],
            {"lines-1": Marked(Clash.CHANGED_THERE)},
        ),
        (
            "an id the form was not opened with counts as a new line",
            BASE_LINES,
            [*BASE_LINES, line("99", "vak", "2")],
            [*BASE_LINES, line("", "vak", "2")],
            {},
        ),
    ],
)
def test_lines(
    case: str,
    theirs: list[dict[str, str]],
    mine: list[dict[str, str]],
    lines: list[dict[str, str]],
    conflicts: dict[str, Marked],
) -> None:
    header = {"supplier": "1", "notes": ""}
    merged = merge(FIELDS, LINE_FIELDS, (header, BASE_LINES), (header, theirs), (header, mine))
    assert merged.lines == lines, case
    assert merged.conflicts == conflicts, case


def test_header_and_lines_together_and_what_was_taken_from_the_other_side() -> None:
    base = ({"supplier": "1", "notes": "pagi"}, BASE_LINES)
    theirs = ({"supplier": "2", "notes": "pagi"}, [line("1", "vit", "10")])
    mine = ({"supplier": "1", "notes": "siang"}, BASE_LINES)
    merged = merge(FIELDS, LINE_FIELDS, base, theirs, mine)
    assert merged.values == {"supplier": "2", "notes": "siang"}
    assert merged.lines == [line("1", "vit", "10")]
    assert merged.conflicts == {}
    assert merged.taken == ["supplier", "lines"]


def test_a_conflict_on_a_header_field_carries_the_stored_value() -> None:
    base = ({"supplier": "1", "notes": "pagi"}, BASE_LINES)
    theirs = ({"supplier": "1", "notes": "sore"}, BASE_LINES)
    mine = ({"supplier": "1", "notes": "siang"}, BASE_LINES)
    merged = merge(FIELDS, LINE_FIELDS, base, theirs, mine)
    assert merged.values["notes"] == "siang"
    assert merged.conflicts == {"notes": Marked(Clash.BOTH_CHANGED, "sore")}
