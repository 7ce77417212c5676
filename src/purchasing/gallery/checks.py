"""Does a partial's header tell the truth? Checked against its template and its declared states;
the gallery's index shows the problems, and the tests fail on any."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from jinja2 import Environment, meta, nodes

from purchasing.gallery import MACRO_KEY, Partial, States, StatesError, header_of, load_states
from purchasing.gallery.headers import Header, HeaderError, Input
from purchasing.i18n import _

# What Litestar gives every template besides the environment's globals.
LITESTAR_CONTEXT = frozenset(
    {"request", "csrf_input", "url_for", "csrf_token", "url_for_static_asset", "get_flashes"}
)


@dataclass(frozen=True)
class Entry:
    """A line of the gallery's index: a partial, what it is, its states and its problems."""

    partial: Partial
    summary: str
    states: int
    problems: list[str]


def index(partials: list[Partial], env: Environment) -> list[Entry]:
    """Each partial with what its header says it is, its number of states and its problems
    (header and states read once)."""
    entries = []
    for partial in partials:
        try:
            header, states = header_of(partial), load_states(partial)
        except (HeaderError, StatesError) as error:
            entries.append(Entry(partial, "", 0, [str(error)]))
            continue
        found = _problems(partial, env, header, states)
        entries.append(Entry(partial, header.summary, len(states.contexts), found))
    return entries


def problems(partial: Partial, env: Environment) -> list[str]:
    """What is wrong with the partial's header or states, in words; empty when all is well."""
    try:
        header, states = header_of(partial), load_states(partial)
    except (HeaderError, StatesError) as error:
        return [str(error)]
    return _problems(partial, env, header, states)


def _problems(partial: Partial, env: Environment, header: Header, states: States) -> list[str]:
    if header.macros:
        return _macro_problems(partial, env, header, states)
    return _state_problems(header, states) + _template_problems(partial, env, header)


def used_variables(env: Environment, template: str) -> set[str]:
    """Names the template reads from its context, less what the app provides everywhere."""
    source = env.loader.get_source(env, template)[0] if env.loader else ""
    found = meta.find_undeclared_variables(env.parse(source))
    return found - set(env.globals) - LITESTAR_CONTEXT


def _state_problems(header: Header, states: States) -> list[str]:
    found = []
    for name, context in states.contexts.items():
        if missing := header.required - context.keys():
            found.append(
                _(
                    "state %(state)s lacks the input(s) %(names)s",
                    state=repr(name),
                    names=_names(missing),
                )
            )
        if extra := context.keys() - header.names:
            found.append(
                _(
                    "state %(state)s gives %(names)s, not among the header's inputs",
                    state=repr(name),
                    names=_names(extra),
                )
            )
    for optional in (i.name for i in header.inputs if i.optional):
        given = sum(optional in context for context in states.contexts.values())
        if given in (0, len(states.contexts)):
            found.append(
                _(
                    "optional input %(input)s must be given in one state and left out in another",
                    input=repr(optional),
                )
            )
    return found


def _template_problems(partial: Partial, env: Environment, header: Header) -> list[str]:
    used = used_variables(env, partial.template)
    found = []
    if undeclared := used - header.names:
        found.append(
            _(
                "the template uses %(names)s, missing from its header's inputs",
                names=_names(undeclared),
            )
        )
    if unused := header.names - used - _included_variables(env, partial.template):
        found.append(
            _(
                "the header lists %(names)s, which neither it nor its includes use",
                names=_names(unused),
            )
        )
    return found


def _included_variables(
    env: Environment, template: str, seen: frozenset[str] = frozenset()
) -> set[str]:
    """What the templates it includes or imports read (an input may be only passed on)."""
    source = env.loader.get_source(env, template)[0] if env.loader else ""
    found: set[str] = set()
    for child in meta.find_referenced_templates(env.parse(source)):
        if child is not None and child not in seen:
            found |= used_variables(env, child)
            found |= _included_variables(env, child, seen | {template})
    return found


def _macro_problems(
    partial: Partial, env: Environment, header: Header, states: States
) -> list[str]:
    real = _macros(env, partial.template)
    declared = {macro.name: macro.params for macro in header.macros}
    found = []
    if real.keys() != declared.keys():
        found.append(
            _(
                "the header's macros are %(declared)s, the file's %(real)s",
                declared=_names(declared),
                real=_names(real),
            )
        )
    for name in real.keys() & declared.keys():
        if _signature(declared[name]) != _signature(real[name]):
            found.append(
                _(
                    "macro %(macro)s: the header's parameters differ from the macro's",
                    macro=repr(name),
                )
            )
    for state, context in states.contexts.items():
        params = declared.get(str(context.get(MACRO_KEY)))
        if params is None:
            found.append(
                _(
                    "state %(state)s must name one of the macros as %(key)s",
                    state=repr(state),
                    key=repr(MACRO_KEY),
                )
            )
            continue
        arguments = context.keys() - {MACRO_KEY}
        if missing := {p.name for p in params if not p.optional} - arguments:
            found.append(
                _(
                    "state %(state)s lacks the argument(s) %(names)s",
                    state=repr(state),
                    names=_names(missing),
                )
            )
        if extra := arguments - {p.name for p in params}:
            found.append(
                _(
                    "state %(state)s gives %(names)s, not parameters of its macro",
                    state=repr(state),
                    names=_names(extra),
                )
            )
    shown = {context.get(MACRO_KEY) for context in states.contexts.values()}
    if unshown := declared.keys() - shown:
        found.append(_("no state shows the macro(s) %(names)s", names=_names(unshown)))
    return found


def _macros(env: Environment, template: str) -> dict[str, tuple[Input, ...]]:
    """The file's macros and their parameters as a header writes them: those with a default
    are optional."""
    source = env.loader.get_source(env, template)[0] if env.loader else ""
    found = {}
    for macro in env.parse(source).find_all(nodes.Macro):
        required = len(macro.args) - len(macro.defaults)
        found[macro.name] = tuple(
            Input(arg.name, optional=n >= required) for n, arg in enumerate(macro.args)
        )
    return found


def _signature(params: tuple[Input, ...]) -> list[tuple[str, bool]]:
    return [(p.name, p.optional) for p in params]


def _names(names: Iterable[object]) -> str:
    return ", ".join(sorted(str(name) for name in names))
