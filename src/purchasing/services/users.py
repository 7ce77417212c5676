"""Users: creation, password checks and the actor behind a session."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Collection, Mapping
from dataclasses import replace
from typing import Any

from purchasing.db import write_transaction
from purchasing.domain.actor import Actor
from purchasing.domain.roles import Role
from purchasing.i18n import N_, _
from purchasing.services.errors import NotFound, ValidationFailed
from purchasing.services.passwords import DEFAULT_PROFILE, Passwords, hash_password
from purchasing.singleflight import failed, shared
from purchasing.tables import AppUser, Company, Farm, UserFarm

MIN_PASSWORD_LENGTH = 8


async def create_user(
    username: str,
    password: str,
    role: Role,
    *,
    full_name: str = "",
    company_name: str | None = None,
    farm_codes: tuple[str, ...] = (),
    password_profile: str = DEFAULT_PROFILE,
) -> Actor:
    """Create a user; every role but SuperAdmin belongs to a company, Operators to farms."""
    errors: dict[str, str] = {}
    if len(password) < MIN_PASSWORD_LENGTH:
        errors["password"] = _("Use at least %(count)s characters.", count=MIN_PASSWORD_LENGTH)
    if await AppUser.exists().where(AppUser.username == username):
        errors["username"] = _("The username %(username)s is taken.", username=repr(username))
    company_id = await _company_for(role, company_name, errors)
    farm_ids = await _farm_ids(company_id, farm_codes, errors)
    if errors:
        raise ValidationFailed(errors)
    password_hash = await asyncio.to_thread(hash_password, password, password_profile)
    async with write_transaction():
        user = AppUser(
            username=username,
            full_name=full_name or username.title(),
            password_hash=password_hash,
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


async def authenticate(username: str, password: str, passwords: Passwords) -> Actor | None:
    """The active user with this username and password, else None; the password is checked on
    `passwords`' threads (which may refuse with Busy)."""
    query = AppUser.select(AppUser.id, AppUser.password_hash, AppUser.active).where(
        AppUser.username == username
    )
    # No username holds a NUL, and PostgreSQL refuses one even as a query parameter.
    row = None if "\x00" in username else await query.first()
    stored = row["password_hash"] if row else None
    if not await passwords.verify(stored, password) or row is None or not row["active"]:
        return None
    if upgraded := await passwords.upgraded(row["password_hash"], password):
        await AppUser.update({AppUser.password_hash: upgraded}).where(AppUser.id == row["id"])
    return await load_actor(row["id"])


async def load_actor(user_id: int) -> Actor | None:
    """The active user `user_id` as the rules see them, else None."""
    return (await load_actors([user_id])).get(user_id)


# One statement, so that a user and their farms are read as of one moment: read apart, a change of
# role and farms committed in between would give an actor that never was.
ACTORS = (
    "SELECT u.id, u.username, u.full_name, u.role, u.company, u.language, uf.farm,"
    " f.company AS farm_company"
    ' FROM app_user u LEFT JOIN user_farm uf ON uf."user" = u.id LEFT JOIN farm f ON f.id = uf.farm'
    " WHERE u.active AND u.id IN ({})"
)


async def load_actors(user_ids: Collection[int]) -> dict[int, Actor]:
    """The active users among `user_ids`, in one query however many they are. An Operator's
    farms are those assigned to them in their own company: one moved to another company sees
    nothing of the old one's farms."""
    if not user_ids:
        return {}
    ids = sorted(user_ids)
    rows = await AppUser.raw(ACTORS.format(", ".join("{}" for _ in ids)), *ids)
    users: dict[int, dict[str, Any]] = {}
    farms: dict[int, set[int]] = {}
    for row in rows:
        users.setdefault(row["id"], row)
        mine = farms.setdefault(row["id"], set())
        if row["farm"] is not None and row["farm_company"] == row["company"]:
            mine.add(row["farm"])
    return {
        user_id: Actor(
            id=user_id,
            username=row["username"],
            full_name=row["full_name"],
            role=Role(row["role"]),
            company_id=row["company"],
            farm_ids=frozenset(farms[user_id]),
            language=row["language"],
        )
        for user_id, row in users.items()
    }


class ActorCache:
    """The actor of each user id, kept `ttl_s` seconds, so a request by a user seen moments ago
    needs no query; concurrent requests for a user not yet kept share one load. A user
    deactivated meanwhile (by the CLI, in any process) is refused once the kept actor expires,
    the same delay after which their open streams end."""

    def __init__(self, ttl_s: float) -> None:
        self.ttl_s = ttl_s
        self._kept: dict[int, tuple[Actor, float]] = {}
        self._loading: dict[int, asyncio.Task[Actor | None]] = {}

    async def get(self, user_id: int) -> Actor | None:
        kept = self._kept.get(user_id)
        if kept is not None and time.monotonic() < kept[1]:
            return kept[0]

        def running() -> asyncio.Task[Actor | None]:
            task = self._loading.get(user_id)
            if task is None or task.done():
                task = self._loading[user_id] = asyncio.ensure_future(self._load(user_id))
                task.add_done_callback(lambda done: self._loaded(user_id, done))
            return task

        return await shared(running)

    async def _load(self, user_id: int) -> Actor | None:
        actor = await load_actor(user_id)
        self.keep(user_id, actor)
        return actor

    def _loaded(self, user_id: int, task: asyncio.Task[Actor | None]) -> None:
        failed(task)  # retrieved: its waiters re-raise it
        if self._loading.get(user_id) is task:
            del self._loading[user_id]

    def keep(self, user_id: int, actor: Actor | None) -> None:
        """Keep `actor` as user `user_id` for the next `ttl_s` (None: the user is inactive or
        gone, and is looked up again next time)."""
        if actor is None:
            self._kept.pop(user_id, None)
        else:
            self._kept[user_id] = (actor, time.monotonic() + self.ttl_s)


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
        errors["company"] = _("Name the user's company (--company).")
        return None
    row = await Company.select(Company.id).where(Company.name == company_name).first()
    if row is None:
        errors["company"] = _("There is no company named %(name)s.", name=repr(company_name))
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
            errors["farm"] = _(
                "There is no farm with code %(code)s in the user's company.", code=repr(code)
            )
        else:
            ids.append(row["id"])
    return ids


async def update_user(
    username: str,
    *,
    role: Role | None = None,
    company_name: str | None = None,
    farm_codes: tuple[str, ...] | None = None,
) -> None:
    """Change a user's role, company or farms (None leaves each as it is; an empty tuple of farm
    codes takes every farm away). An Operator keeps only farms of their own company: moving
    someone to another company drops the old one's. Their open pages and streams follow within
    STREAM_RECHECK_S, in every process."""
    row = (
        await AppUser.select(AppUser.id, AppUser.role, AppUser.company)
        .where(AppUser.username == username)
        .first()
    )
    if row is None:
        raise NotFound(N_("There is no user %(username)s."), username=repr(username))
    errors: dict[str, str] = {}
    new_role = role or Role(row["role"])
    company_id = row["company"]
    if company_name is not None or (company_id is None) != (new_role is Role.SUPER_ADMIN):
        company_id = await _company_for(new_role, company_name, errors)
    farm_ids = None if farm_codes is None else await _farm_ids(company_id, farm_codes, errors)
    if errors:
        raise ValidationFailed(errors)
    async with write_transaction():
        await AppUser.update({AppUser.role: new_role.value, AppUser.company: company_id}).where(
            AppUser.id == row["id"]
        )
        if farm_ids is not None:
            await UserFarm.delete().where(UserFarm.user == row["id"])
            for farm_id in farm_ids:
                await UserFarm(user=row["id"], farm=farm_id).save()
        elif company_id != row["company"]:
            kept = await Farm.select(Farm.id).where(Farm.company == company_id)
            await UserFarm.delete().where(
                (UserFarm.user == row["id"]) & UserFarm.farm.not_in([f["id"] for f in kept] or [0])
            )


async def set_active(username: str, active: bool) -> None:
    """Let a user log in again, or stop them: their pages and open streams stop within seconds."""
    updated = (
        await AppUser.update({AppUser.active: active})
        .where(AppUser.username == username)
        .returning(AppUser.id)
    )
    if not updated:
        raise NotFound(N_("There is no user %(username)s."), username=repr(username))


async def remember_language(actor: Actor, language: str, actors: ActorCache) -> Actor:
    """Keep `language` (one of i18n.LANGUAGES) on `actor`'s account; this process sees it at
    once, the others once their kept actor expires."""
    await AppUser.update({AppUser.language: language}).where(AppUser.id == actor.id)
    chosen = replace(actor, language=language)
    actors.keep(actor.id, chosen)
    return chosen
