"""The gallery's contract with each partial: states declared beside it, and a header that tells the
truth about its inputs (checked against the template and the states). Rendering every state
through the app is tests/integration/test_gallery.py."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from purchasing.gallery import Partial, StatesError, discover, load_states
from purchasing.gallery.checks import problems
from purchasing.gallery.headers import HeaderError, Input, Macro, parse_header
from purchasing.settings import Settings
from purchasing.web.templating import TEMPLATES, jinja_environment

PARTIALS = discover(TEMPLATES)
ENV = jinja_environment(TEMPLATES)


def test_every_partial_is_found() -> None:
    names = {p.name for p in PARTIALS}
    assert {"purchases/_row", "live/_toast", "purchases/_fields", "admin/_monitor_panel"} <= names
    assert all(p.path.name.startswith("_") for p in PARTIALS)


@pytest.mark.parametrize("partial", PARTIALS, ids=[p.name for p in PARTIALS])
def test_each_partial_declares_states_matching_its_header(partial: Partial) -> None:
    assert problems(partial, ENV) == []


def report(templates_dir: Path) -> dict[str, list[str]]:
    """The problems of every partial under `templates_dir` that has any."""
    env = jinja_environment(templates_dir)
    found = {p.name: problems(p, env) for p in discover(templates_dir)}
    return {name: listed for name, listed in found.items() if listed}


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    """A copy of the templates, to add partials to (Settings takes it as TEMPLATES_DIR)."""
    target = tmp_path / "templates"
    shutil.copytree(TEMPLATES, target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


def write(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")


def test_a_new_partial_without_states_fails(copy: Path) -> None:
    assert report(copy) == {}
    write(copy / "purchases" / "_summary.html.j2", "{#- Totals. Inputs: page. -#}{{ page.total }}")
    settings = Settings.from_env({"TEMPLATES_DIR": str(copy), "SECRET_KEY": "test-secret-key"})
    assert report(settings.templates_dir) == {
        "purchases/_summary": ["purchases/_summary has no states: add _summary.states.py beside it"]
    }


def test_adding_its_states_file_is_all_a_new_partial_needs(copy: Path) -> None:
    write(copy / "purchases" / "_summary.html.j2", "{#- Totals. Inputs: page. -#}{{ page.total }}")
    write(copy / "purchases" / "_summary.states.py", 'STATES = {"none": {"page": {"total": 0}}}\n')
    assert report(copy) == {}
    summary = next(p for p in discover(copy) if p.name == "purchases/_summary")
    assert load_states(summary).contexts == {"none": {"page": {"total": 0}}}


@pytest.mark.parametrize(
    ("template", "states", "problem"),
    [
        (
            "{#- X. Inputs: a. -#}{{ a }}{{ b }}",
            {"one": {"a": 1}},
            "the template uses b, missing from its header's inputs",
        ),
        (
            "{#- X. Inputs: a, b. -#}{{ a }}",
            {"one": {"a": 1, "b": 2}},
            "the header lists b, which neither it nor its includes use",
        ),
        ("{#- X. Inputs: a. -#}{{ a }}", {"one": {}}, "state 'one' lacks the input(s) a"),
        (
            "{#- X. Inputs: a. -#}{{ a }}",
            {"one": {"a": 1, "c": 3}},
            "state 'one' gives c, not among the header's inputs",
        ),
        (
            "{#- X. Inputs: optional a. -#}{{ a if a is defined }}",
            {"one": {"a": 1}},
            "optional input 'a' must be given in one state and left out in another",
        ),
        ("{{ a }}", {"one": {"a": 1}}, "no header comment on the first line"),
    ],
)
def test_a_header_that_does_not_tell_the_truth_is_reported(
    copy: Path, template: str, states: dict[str, dict[str, int]], problem: str
) -> None:
    write(copy / "live" / "_x.html.j2", template)
    write(copy / "live" / "_x.states.py", f"STATES = {states!r}\n")
    found = report(copy)["live/_x"]
    assert len(found) == 1
    assert found[0].startswith(problem)


def test_macro_files_are_checked_against_their_signatures(copy: Path) -> None:
    write(
        copy / "live" / "_m.html.j2",
        "{#- M. Macros: a(x, optional y), b(z). -#}"
        "{% macro a(x, y=1) %}{{ x }}{{ y }}{% endmacro %}{% macro b(z, w=0) %}{% endmacro %}",
    )
    write(copy / "live" / "_m.states.py", 'STATES = {"a": {"macro": "a", "y": 2}}\n')
    assert report(copy)["live/_m"] == [
        "macro 'b': the header's parameters differ from the macro's",
        "state 'a' lacks the argument(s) x",
        "no state shows the macro(s) b",
    ]


def test_states_that_cannot_be_used_say_why(copy: Path) -> None:
    write(copy / "live" / "_x.html.j2", "{#- X. Inputs: none. -#}")
    write(copy / "live" / "_x.states.py", "STATES = {}\n")
    partial = next(p for p in discover(copy) if p.name == "live/_x")
    with pytest.raises(StatesError, match="must define STATES"):
        load_states(partial)
    write(copy / "live" / "_x.states.py", "STATES = {'a': {}}\nFRAME = 'ul'\n")
    with pytest.raises(StatesError, match="FRAME must be one of plain, table, topbar"):
        load_states(partial)
    write(copy / "live" / "_x.states.py", "STATES = {'a': 1 / 0}\n")
    with pytest.raises(StatesError, match="ZeroDivisionError"):
        load_states(partial)


def test_headers_are_read_with_remarks_optional_inputs_and_macros() -> None:
    header = parse_header(
        "{#- One row. Inputs: kind, row (Row, as listing builds it), "
        "optional notice ({level, text}). -#}"
    )
    assert header.summary == "One row."
    assert header.inputs == (
        Input("kind"),
        Input("row", remark="Row, as listing builds it"),
        Input("notice", optional=True, remark="{level, text}"),
    )
    assert header.required == {"kind", "row"}
    macros = parse_header("{#- Fields.\n  Macros: error(form, name), b(optional x). -#}").macros
    assert macros == (
        Macro("error", (Input("form"), Input("name"))),
        Macro("b", (Input("x", True),)),
    )
    assert parse_header("{#- Nothing. Inputs: none. -#}").inputs == ()


@pytest.mark.parametrize(
    "source",
    [
        "<div>",
        "{#- Inputs: a. -#}",
        "{#- A row. Inputs: a -#}",
        "{#- A row. Inputs: a (unclosed. -#}",
        "{#- A row. Inputs: a, , b. -#}",
        "{#- A row. Inputs: two words. -#}",
        "{#- A row. Inputs: a. Inputs: b. -#}",
    ],
)
def test_malformed_headers_are_refused(source: str) -> None:
    with pytest.raises(HeaderError):
        parse_header(source)
