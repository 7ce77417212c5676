"""Table fragments rendered once per distinct view and event, and answered 304 when unchanged.

After an event every page showing that table re-fetches it at about the same moment. A view is
everything that shapes the fragment: kind, query, the viewer's role (which moves the rows offer)
and scope (whose purchases), the language it is worded in, the newest event this process has
read (every change to a purchase writes one), and the cache's generation (bumped when a template
changes, in development). Identical views share one render, even when they ask at once; each
response then gets its own CSRF token, put in place of a placeholder. The ETag names the view
and the token, so a page asking again with nothing changed costs no query and no render.
"""

from __future__ import annotations

import asyncio
import hashlib
import html
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from purchasing.singleflight import failed, shared

CSRF_PLACEHOLDER = "\x00csrf\x00"  # NUL never occurs in rendered text (input refuses it)
CSRF_INPUT = '<input type="hidden" name="_csrf_token" value="{}" />'

View = tuple[object, ...]


def etag(view: View, csrf_token: str) -> str:
    digest = hashlib.blake2b(repr((view, csrf_token)).encode(), digest_size=12).hexdigest()
    return f'"{digest}"'


def with_token(body: str, csrf_token: str) -> str:
    return body.replace(CSRF_PLACEHOLDER, html.escape(csrf_token))


@dataclass
class FragmentStats:
    renders: int = 0
    hits: int = 0
    not_modified: int = 0


class FragmentCache:
    """The newest renders, at most `size`; a render under way is shared by everyone asking, and
    goes on for them when the request that started it goes away."""

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self.stats = FragmentStats()
        self._renders: OrderedDict[View, asyncio.Task[str]] = OrderedDict()
        self.generation = 0  # part of every view: a clear() also changes every ETag

    def clear(self) -> None:
        """Forget every render: the templates changed (development's live reload)."""
        self._renders.clear()
        self.generation += 1

    async def get(self, view: View, render: Callable[[], Awaitable[str]]) -> str:
        def running() -> asyncio.Task[str]:
            task = self._renders.get(view)
            if task is not None and not failed(task):
                self._renders.move_to_end(view)
                self.stats.hits += 1
                return task
            task = asyncio.ensure_future(render())
            self._renders[view] = task
            task.add_done_callback(lambda done: self._drop(view, done) if failed(done) else None)
            while len(self._renders) > self.size:
                self._renders.popitem(last=False)
            self.stats.renders += 1
            return task

        return await shared(running)

    def _drop(self, view: View, task: asyncio.Task[str]) -> None:
        if self._renders.get(view) is task:
            del self._renders[view]
