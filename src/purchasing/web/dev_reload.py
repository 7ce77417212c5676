"""Live reload in development (DEBUG only): a change under the templates or static folder reaches
every open page over its event stream.

A watcher task forgets the cached table renders, then writes one `dev_reload` frame to every open
stream naming the changed files. A page then reloads, or re-fetches its live fragments when every
changed file is a template those fragments render (static/js/live-table.js). Without DEBUG none of
this exists: no task, no frame, no marker in the page.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection, Iterable
from pathlib import Path

import msgspec
from jinja2 import FileSystemLoader, TemplateError, meta
from watchfiles import awatch

from purchasing.live.hub import Hub
from purchasing.settings import Settings
from purchasing.web.fragments import FragmentCache
from purchasing.web.templating import jinja_environment

log = logging.getLogger("purchasing.dev_reload")
EVENT = "dev_reload"
TASK_NAME = "dev-reload"
TEMPLATES = "templates"
# The templates the pages re-fetch on `reload-table` (static/js/live-table.js): the index page's
# table and the monitor's panel. A change within what they render shows without reloading the page.
LIVE_ROOTS = ("purchases/_table.html.j2", "admin/_monitor_panel.html.j2")


def watcher(settings: Settings, hub: Hub, fragments: FragmentCache) -> DevReload | None:
    """The templates and static folders' watcher; None unless DEBUG."""
    if not settings.debug:
        return None
    folders = {TEMPLATES: settings.templates_dir, "static": settings.static_dir}
    return DevReload(folders, hub, fragments)


def live_templates(folder: Path) -> frozenset[str]:
    """The live roots and every template they include or import, as `folder` holds them now; none
    when one fails to load or parse (every change then reloads the page)."""
    env = jinja_environment(folder)
    loader = FileSystemLoader(folder)
    found: set[str] = set()
    pending = list(LIVE_ROOTS)
    try:
        while pending:
            name = pending.pop()
            if name not in found:
                found.add(name)
                source, _, _ = loader.get_source(env, name)
                referenced = meta.find_referenced_templates(env.parse(source))
                pending.extend(ref for ref in referenced if ref)  # None: a name known only when run
    except (TemplateError, OSError, UnicodeError):
        return frozenset()
    return frozenset(found)


def reload_frame(paths: list[str], live: Collection[str]) -> bytes:
    """A `dev_reload` frame. It has no `id:` line, so no page's cursor moves. `partial_only`:
    every changed file is one of the `live` templates, which the re-fetched fragments show."""
    shown = {f"{TEMPLATES}/{name}" for name in live}
    partial_only = all(path in shown for path in paths)
    body = msgspec.json.encode({"paths": paths, "partial_only": partial_only})
    return b"event: %s\ndata: %s\n\n" % (EVENT.encode(), body)


class DevReload:
    """Watches `folders` (each under the name pages see, such as "templates") while the app runs."""

    def __init__(self, folders: dict[str, Path], hub: Hub, fragments: FragmentCache) -> None:
        self.folders = {name: folder.resolve() for name, folder in folders.items()}
        self.hub = hub
        self.fragments = fragments
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._stop.clear()
        self._task = asyncio.create_task(self._watch(), name=TASK_NAME)

    async def stop(self) -> None:
        self._stop.set()  # the watcher's thread sees it within one step (50 ms)
        if self._task:
            await self._task
            self._task = None

    async def _watch(self) -> None:
        try:
            async for changes in awatch(*self.folders.values(), stop_event=self._stop):
                self.changed(path for _, path in changes)
        except Exception:
            watched = ", ".join(str(folder) for folder in self.folders.values())
            log.exception("live reload stopped watching %s", watched)

    def changed(self, paths: Iterable[str]) -> int:
        """Forget the cached renders and tell every open page; returns how many streams heard."""
        named = sorted({self._name(Path(path)) for path in paths})
        self.fragments.clear()
        live = live_templates(self.folders[TEMPLATES])  # now: an edit may change the includes
        reached = self.hub.broadcast(reload_frame(named, live))
        log.info("live reload: %s changed, %d streams told", ", ".join(named), reached)
        return reached

    def _name(self, path: Path) -> str:
        """`templates/purchases/_row.html.j2`: the path under its folder's name."""
        for name, folder in self.folders.items():
            if path.is_relative_to(folder):
                return f"{name}/{path.relative_to(folder).as_posix()}"
        return path.name
