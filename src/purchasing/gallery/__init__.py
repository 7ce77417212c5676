"""The template gallery: every partial under the templates folder, shown once per named state with
sample data (`/_gallery`, only when DEBUG is on).

A partial is `<folder>/_<name>.html.j2`. Its states live beside it in `_<name>.states.py`, which
defines `STATES` (state name -> template context; for a file of macros, each context names its
`macro` and gives that macro's arguments) and may set `FRAME`: what the gallery shows it inside
("table" for a `<tr>`, "topbar" for a piece of the page header, else "plain"). States are read
again on every request, so a designer sees an edit on reload.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment
from markupsafe import Markup

from purchasing.gallery.headers import Header, HeaderError, parse_header
from purchasing.i18n import _

SUFFIX = ".html.j2"
FRAMES = ("plain", "table", "topbar")
MACRO_KEY = "macro"


class StatesError(Exception):
    """A partial's states are missing or cannot be used; the message says which and why."""


@dataclass(frozen=True)
class Partial:
    name: str  # "purchases/_row": its path under the templates folder, without the suffix
    path: Path

    @property
    def template(self) -> str:
        return self.name + SUFFIX

    @property
    def states_path(self) -> Path:
        return self.path.with_name(self.path.name.removesuffix(SUFFIX) + ".states.py")


@dataclass(frozen=True)
class States:
    contexts: dict[str, dict[str, Any]]
    frame: str = "plain"


@dataclass(frozen=True)
class Shown:
    """One state as the gallery page shows it: rendered, or the error that stopped it."""

    name: str
    anchor: str
    html: Markup
    error: str = ""


@dataclass(frozen=True)
class Page:
    """A partial's gallery page: its header, each state shown, or why none could be."""

    partial: Partial
    header: Header | None = None
    shown: tuple[Shown, ...] = ()
    frame: str = "plain"
    failure: str = ""

    @property
    def failed(self) -> bool:
        return bool(self.failure) or any(state.error for state in self.shown)


def discover(templates_dir: Path) -> list[Partial]:
    """Every partial (a template whose name starts with `_`), in path order."""
    return [
        Partial(path.relative_to(templates_dir).as_posix().removesuffix(SUFFIX), path)
        for path in sorted(templates_dir.glob(f"**/_*{SUFFIX}"))
    ]


def header_of(partial: Partial) -> Header:
    return parse_header(partial.path.read_text(encoding="utf-8"))


def page(env: Environment, partial: Partial, provided: Mapping[str, Any]) -> Page:
    """The partial in each of its states, rendered with what the app gives every template
    (`provided`: the request, the CSRF input) under each state's own context."""
    try:
        header = header_of(partial)
    except HeaderError as error:
        return Page(partial, failure=str(error))
    try:
        states = load_states(partial)
    except StatesError as error:
        return Page(partial, header, failure=str(error))
    return Page(partial, header, tuple(render(env, partial, states, provided)), states.frame)


def load_states(partial: Partial) -> States:
    """The partial's declared states, imported afresh from its `.states.py` file."""
    path = partial.states_path
    if not path.is_file():
        raise StatesError(
            _(
                "%(partial)s has no states: add %(file)s beside it",
                partial=partial.name,
                file=path.name,
            )
        )
    module_name = "purchasing_gallery_states." + partial.name.replace("/", ".")
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise StatesError(_("%(file)s cannot be imported", file=path.name))
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # dataclasses defined there look their module up
    try:
        spec.loader.exec_module(module)
    except Exception as error:
        failure = f"{type(error).__name__}: {error}"
        raise StatesError(_("%(file)s failed: %(error)s", file=path.name, error=failure)) from error
    contexts = getattr(module, "STATES", None)
    frame = getattr(module, "FRAME", "plain")
    if not isinstance(contexts, dict) or not contexts:
        raise StatesError(
            _("%(file)s must define STATES, a dict of state name -> context", file=path.name)
        )
    for name, context in contexts.items():
        if not isinstance(name, str) or not isinstance(context, dict):
            raise StatesError(
                _(
                    "%(file)s: state %(state)s must be a name and a dict",
                    file=path.name,
                    state=repr(name),
                )
            )
    if frame not in FRAMES:
        raise StatesError(
            _("%(file)s: FRAME must be one of %(frames)s", file=path.name, frames=", ".join(FRAMES))
        )
    return States(contexts, frame)


def render(
    env: Environment, partial: Partial, states: States, provided: Mapping[str, Any]
) -> list[Shown]:
    """Each state rendered alone; a state that fails shows its error in its place."""
    shown: list[Shown] = []
    anchors: set[str] = set()
    for name, context in states.contexts.items():
        base = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "state"
        anchor = base
        while anchor in anchors:
            anchor = f"{base}-{len(anchors)}"
        anchors.add(anchor)
        try:
            html = _render_one(env, partial, context, provided)
        except Exception as error:  # shown in place: a designer sees which state broke, and why
            shown.append(Shown(name, anchor, Markup(""), f"{type(error).__name__}: {error}"))
        else:
            shown.append(Shown(name, anchor, html))
    return shown


def _render_one(
    env: Environment, partial: Partial, context: dict[str, Any], provided: Mapping[str, Any]
) -> Markup:
    template = env.get_template(partial.template)
    if MACRO_KEY not in context:
        return Markup(template.render({**provided, **context}))  # noqa: S704 (autoescaped)
    arguments = dict(context)
    macro = getattr(template.make_module(dict(provided)), str(arguments.pop(MACRO_KEY)))
    return Markup(macro(**arguments))  # noqa: S704 (a macro's output is autoescaped markup)
