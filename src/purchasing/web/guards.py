"""Route guards: the role must hold the action on the kind in the path (domain/permissions)."""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import NotFoundException
from litestar.handlers.base import BaseRouteHandler
from litestar.types import Guard

from purchasing.domain.actor import Actor
from purchasing.domain.permissions import Action, require
from purchasing.domain.statuses import Kind


def permits(action: Action) -> Guard:
    # async, though it awaits nothing: Litestar runs a plain function guard in a worker thread.
    async def guard(connection: ASGIConnection[Any, Actor, Any, Any], _: BaseRouteHandler) -> None:
        try:
            kind = Kind(connection.path_params["kind"])
        except ValueError:
            raise NotFoundException("There is no such purchase module.") from None
        require(connection.user.role, action, kind)  # Forbidden: a 403 with its reason

    return guard


READ = permits(Action.READ)
CREATE = permits(Action.CREATE)
UPDATE = permits(Action.UPDATE)
DELETE = permits(Action.DELETE)
