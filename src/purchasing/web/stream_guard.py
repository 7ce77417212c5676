"""Ends the event streams of sessions that ended (logout, idle expiry) or of deactivated users."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from litestar.stores.base import Store

from purchasing.live.hub import Hub
from purchasing.tables import AppUser

log = logging.getLogger("purchasing.live")


class StreamGuard:
    """Checks every few seconds, in every process: a logout in one process ends streams in all."""

    def __init__(self, hub: Hub, sessions: Store, interval_s: float) -> None:
        self.hub = hub
        self.sessions = sessions
        self.interval_s = interval_s
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="stream-guard")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval_s)
            try:
                await self.sweep()
            except Exception:
                log.exception("checking the sessions of open streams failed")

    async def sweep(self) -> int:
        """Close streams whose session is gone or whose user is inactive; returns how many."""
        owners = {s.owner for s in self.hub.subscribers if s.owner is not None}
        if not owners:
            return 0
        user_ids = sorted({owner.user_id for owner in owners})
        active = {
            row["id"]
            for row in await AppUser.select(AppUser.id).where(
                AppUser.id.is_in(user_ids) & AppUser.active.eq(True)
            )
        }
        ended = set()
        for session in {owner.session_id for owner in owners}:
            if await self.sessions.get(session) is None:
                ended.add(session)
        closed = self.hub.close_streams_of(
            lambda owner: owner.session_id in ended or owner.user_id not in active
        )
        if closed:
            log.info("closed %d streams of ended sessions or inactive users", closed)
        return closed
