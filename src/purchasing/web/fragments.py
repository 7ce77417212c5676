"""Table fragments rendered once per distinct view and event, and answered 304 when unchanged.

After an event every page showing that table re-fetches it at about the same moment. A view is
everything that shapes the fragment: kind, query, the viewer's role (which moves the rows offer)
and scope (whose purchases), the newest event this process has read (every change to a
purchase writes one), and the cache's generation (bumped when a template changes, in
development). Identical views share one render, even when they ask at once; each response then
gets its own CSRF token, put in place of a placeholder. The ETag names the view and the token,
so a page asking again with nothing changed costs no query and no render.
"""

from __future__ import annotations

import asyncio
import hashlib
import html
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from purchasing.domain.actor import Actor

CSRF_PLACEHOLDER = "\x00csrf\x00"  # NUL never occurs in rendered text (input refuses it)
CSRF_INPUT = '<input type="hidden" name="_csrf_token" value="{}" />'

View = tuple[object, ...]


def scope_of(actor: Actor) -> tuple[object, ...]:
    """What decides which rows and which moves a viewer gets."""
    if actor.sees_everything:
        return (actor.role.value, "all")
    return (actor.role.value, actor.company_id, tuple(sorted(actor.farm_ids)))


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
    """The newest renders, at most `size`; a render under way is shared by everyone asking."""

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self.stats = FragmentStats()
        self._renders: OrderedDict[View, asyncio.Future[str]] = OrderedDict()
        self.generation = 0  # part of every view: a clear() also changes every ETag

    def clear(self) -> None:
        """Forget every render: the templates changed (development's live reload)."""
        self._renders.clear()
        self.generation += 1

    async def get(self, view: View, render: Callable[[], Awaitable[str]]) -> str:
        shared = self._renders.get(view)
        if shared is not None:
            self._renders.move_to_end(view)
            self.stats.hits += 1
            return await asyncio.shield(shared)
        pending: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._renders[view] = pending
        while len(self._renders) > self.size:
            self._renders.popitem(last=False)
        self.stats.renders += 1
        try:
            body = await render()
        except BaseException as error:
            self._renders.pop(view, None)
            pending.set_exception(error)
            pending.exception()  # retrieved: waiters re-raise it, nobody else should log it
            raise
        pending.set_result(body)
        return body
