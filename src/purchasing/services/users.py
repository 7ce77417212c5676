"""Users: creation, password checks and the actor behind a session."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from purchasing.db import write_transaction
from purchasing.domain.actor import Actor
from purchasing.domain.roles import Role
from purchasing.services.errors import NotFound, ValidationFailed
from purchasing.tables import AppUser, Company, Farm, UserFarm

MIN_PASSWORD_LENGTH = 8
_hasher = PasswordHasher()
# Verified against when the username is unknown, so both failures take as long.
_DUMMY_HASH = _hasher.hash("not-a-real-password")


async def create_user(
    username: str,
    password: str,
    role: Role,
    *,
    full_name: str = "",
    company_name: str | None = None,
    farm_codes: tuple[str, ...] = (),
) -> Actor:
    """Create a user; every role but SuperAdmin belongs to a company, Operators to farms."""
    errors: dict[str, str] = {}
    if len(password) < MIN_PASSWORD_LENGTH:
        errors["password"] = f"Use at least {MIN_PASSWORD_LENGTH} characters."
    if await AppUser.exists().where(AppUser.username == username):
        errors["username"] = f"The username {username!r} is taken."
    company_id = await _company_for(role, company_name, errors)
    farm_ids = await _farm_ids(company_id, farm_codes, errors)
    if errors:
        raise ValidationFailed(errors)
    async with write_transaction():
        user = AppUser(
            username=username,
            full_name=full_name or username.title(),
            password_hash=_hasher.hash(password),
            role=role.value,
            company=company_id,
        )
        await user.save()
        for farm_id in farm_ids:
            await UserFarm(user=user.id, farm=farm_id).save()
    return Actor(
        id=user.id,
        username=username,
        full_name=user.full_name,
        role=role,
        company_id=company_id,
        farm_ids=frozenset(farm_ids),
    )


async def authenticate(username: str, password: str) -> Actor | None:
    """The active user with this username and password, else None."""
    query = AppUser.select(AppUser.id, AppUser.password_hash, AppUser.active).where(
        AppUser.username == username
    )
    # No username holds a NUL, and PostgreSQL refuses one even as a query parameter.
    row = None if "\x00" in username else await query.first()
    stored = row["password_hash"] if row else _DUMMY_HASH
    try:
        _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return None
    if row is None or not row["active"]:
        return None
    return await load_actor(row["id"])


async def load_actor(user_id: int) -> Actor | None:
    row = (
        await AppUser.select(
            AppUser.id, AppUser.username, AppUser.full_name, AppUser.role, AppUser.company
        )
        .where((AppUser.id == user_id) & (AppUser.active.eq(True)))
        .first()
    )
    if row is None:
        return None
    farms = await UserFarm.select(UserFarm.farm).where(UserFarm.user == user_id)
    return Actor(
        id=row["id"],
        username=row["username"],
        full_name=row["full_name"],
        role=Role(row["role"]),
        company_id=row["company"],
        farm_ids=frozenset(f["farm"] for f in farms),
    )


class ActorCache:
    """The actor of each user id, kept `ttl_s` seconds, so a request by a user seen moments ago
    needs no query; concurrent requests for a user not yet kept share one load. A user
    deactivated meanwhile (by the CLI, in any process) is refused once the kept actor expires,
    the same delay after which their open streams end."""

    def __init__(self, ttl_s: float) -> None:
        self.ttl_s = ttl_s
        self._kept: dict[int, tuple[Actor, float]] = {}
        self._loading: dict[int, asyncio.Future[Actor | None]] = {}

    async def get(self, user_id: int) -> Actor | None:
        kept = self._kept.get(user_id)
        if kept is not None and time.monotonic() < kept[1]:
            return kept[0]
        loading = self._loading.get(user_id)
        if loading is not None:
            return await asyncio.shield(loading)
        future: asyncio.Future[Actor | None] = asyncio.get_running_loop().create_future()
        self._loading[user_id] = future
        try:
            actor = await load_actor(user_id)
        except BaseException as error:
            future.set_exception(error)
            future.exception()  # retrieved: waiters re-raise it, nobody else should log it
            raise
        finally:
            del self._loading[user_id]
        if actor is None:
            self._kept.pop(user_id, None)
        else:
            self._kept[user_id] = (actor, time.monotonic() + self.ttl_s)
        future.set_result(actor)
        return actor


async def actor_of_session(session: Mapping[str, Any], actors: ActorCache) -> Actor | None:
    """The active user a session was signed in as, else None."""
    user_id = session.get("user_id")
    return await actors.get(user_id) if isinstance(user_id, int) else None


async def _company_for(role: Role, company_name: str | None, errors: dict[str, str]) -> int | None:
    if company_name is None:
        if role is Role.SUPER_ADMIN:
            return None
        companies = await Company.select(Company.id)
        if len(companies) == 1:
            return int(companies[0]["id"])
        errors["company"] = "Name the user's company (--company)."
        return None
    row = await Company.select(Company.id).where(Company.name == company_name).first()
    if row is None:
        errors["company"] = f"There is no company named {company_name!r}."
        return None
    return int(row["id"])


async def _farm_ids(
    company_id: int | None, codes: tuple[str, ...], errors: dict[str, str]
) -> list[int]:
    ids = []
    for code in codes:
        query = Farm.select(Farm.id).where(Farm.code == code)
        if company_id is not None:
            query = query.where(Farm.company == company_id)
        row = await query.first()
        if row is None:
            errors["farm"] = f"There is no farm with code {code!r} in the user's company."
        else:
            ids.append(row["id"])
    return ids


async def set_active(username: str, active: bool) -> None:
    """Let a user log in again, or stop them: their pages and open streams stop within seconds."""
    updated = (
        await AppUser.update({AppUser.active: active})
        .where(AppUser.username == username)
        .returning(AppUser.id)
    )
    if not updated:
        raise NotFound(f"There is no user {username!r}.")
