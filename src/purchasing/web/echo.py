"""Echo marks: how a page recognises the events of its own changes, and nobody else can.

Each page gets a tab id of its own when it is rendered, known only to that page, which sends it
with every request it makes (`X-Tab-Id`). A change stores in its event not the tab id but a mark
computed from it, the user's id and the server's secret. The page is given its mark with the
tab id and compares: an event carrying its mark is its own echo (no toast, no refresh when its
row already shows the change). Everyone else sees only marks: they cannot learn a tab id from
one, and a change they make carries a mark of their own user, so they cannot make another
person's page skip an event. The event is still encoded once for every reader.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from typing import Any

from litestar import Request

from purchasing.domain.actor import Actor

TAB_ID = re.compile(r"[A-Za-z0-9_-]{16,64}")


@dataclass(frozen=True)
class EchoMarks:
    secret: str

    def mark(self, user_id: int, tab_id: str) -> str:
        message = f"echo:{user_id}:{tab_id}".encode()
        return hmac.new(self.secret.encode(), message, hashlib.sha256).hexdigest()[:32]

    def new_tab(self, actor: Actor) -> dict[str, str]:
        """A page's tab id and its mark."""
        tab_id = secrets.token_urlsafe(18)
        return {"id": tab_id, "mark": self.mark(actor.id, tab_id)}

    def of(self, request: Request[Actor, Any, Any]) -> str:
        """The mark of the tab that sent `request`, or '' when it named none."""
        tab_id = request.headers.get("x-tab-id", "")
        return self.mark(request.user.id, tab_id) if TAB_ID.fullmatch(tab_id) else ""
