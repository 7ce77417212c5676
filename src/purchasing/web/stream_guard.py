"""Keeps open event streams in step with their sessions and their users' permissions."""

from __future__ import annotations

import logging

from litestar.stores.base import Store

from purchasing.live.hub import Hub
from purchasing.live.stream import readable_kinds, visible_to
from purchasing.live.subscriber import Owner
from purchasing.services.users import ActorCache, load_actors

log = logging.getLogger("purchasing.live")


class StreamGuard:
    """Checks the open streams every few seconds, in every process (a logout or a change made
    in one process, or by the CLI, reaches the streams of all): streams of ended sessions and
    of deactivated users end; those of users whose role, company or farms changed take the new
    permissions at once, live and replayed alike, and their pages re-fetch what they show. The
    users looked up refresh the process's `ActorCache`, so their next requests see the same."""

    def __init__(self, hub: Hub, sessions: Store, actors: ActorCache) -> None:
        self.hub = hub
        self.sessions = sessions
        self.actors = actors

    async def sweep(self) -> tuple[int, int]:
        """Returns how many streams it closed and how many now follow new permissions."""
        owners = self.hub.owners()
        if not owners:
            return 0, 0
        user_ids = {owner.user_id for owner in owners}
        actors = await load_actors(user_ids)
        for user_id in user_ids:
            self.actors.keep(user_id, actors.get(user_id))
        ended = set()
        for session in {owner.session_id for owner in owners}:
            if await self.sessions.get(session) is None:
                ended.add(session)
        closed = self.hub.close_streams_of(
            lambda owner: owner.session_id in ended or owner.user_id not in actors
        )
        regranted = {
            owner: (Owner(owner.session_id, actor), visible_to(actor), readable_kinds(actor))
            for owner in owners
            if (actor := actors.get(owner.user_id)) is not None and actor.grant != owner.actor.grant
        }
        changed = self.hub.regrant(regranted) if regranted else 0
        if closed or changed:
            log.info(
                "streams checked: %d closed (session ended or user inactive), %d follow new "
                "permissions",
                closed,
                changed,
            )
        return closed, changed
