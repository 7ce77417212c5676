"""A render or a lookup shared by several requests survives the one that started it going away."""

from __future__ import annotations

import asyncio

import pytest

from purchasing.domain.actor import Actor
from purchasing.domain.roles import Role
from purchasing.services import users
from purchasing.web.fragments import FragmentCache


async def test_a_shared_render_goes_on_for_the_others_when_its_first_requester_leaves() -> None:
    cache = FragmentCache()
    started, release = asyncio.Event(), asyncio.Event()
    renders = 0

    async def render() -> str:
        nonlocal renders
        renders += 1
        started.set()
        await release.wait()
        return "<table>"

    first = asyncio.create_task(cache.get(("supply",), render))
    waiters = [asyncio.create_task(cache.get(("supply",), render)) for _ in range(3)]
    await started.wait()  # the render runs, and every request waits on it
    assert cache.stats.hits == 3
    first.cancel()  # the client that asked first disconnects
    release.set()
    assert await asyncio.gather(*waiters) == ["<table>"] * 3
    assert first.cancelled()
    assert renders == 1


async def test_a_render_that_was_itself_cancelled_runs_again_for_those_waiting() -> None:
    cache = FragmentCache()
    attempts: list[asyncio.Task[object]] = []
    started = asyncio.Event()

    async def render() -> str:
        attempts.append(asyncio.current_task())  # type: ignore[arg-type]
        if len(attempts) == 1:
            started.set()
            await asyncio.Event().wait()  # cancelled below, as a server may cancel a task
        return "<table>"

    waiters = [asyncio.create_task(cache.get(("feed",), render)) for _ in range(3)]
    await started.wait()
    attempts[0].cancel()
    assert await asyncio.gather(*waiters) == ["<table>"] * 3
    assert len(attempts) == 2


async def test_a_failed_render_is_not_kept() -> None:
    cache = FragmentCache()
    calls = 0

    async def render() -> str:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("database went away")
        return "<table>"

    with pytest.raises(RuntimeError):
        await cache.get(("livestock",), render)
    assert await cache.get(("livestock",), render) == "<table>"


async def test_a_lookup_cancelled_before_it_ran_is_started_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clerk = Actor(id=1, username="clerk", full_name="Clerk", role=Role.MANAGER, company_id=1)
    lookups = 0

    async def lookup(user_id: int) -> Actor:
        nonlocal lookups
        lookups += 1
        return clerk

    monkeypatch.setattr(users, "load_actor", lookup)
    cache = users.ActorCache(ttl_s=60)
    asking = asyncio.create_task(cache.get(1))
    await asyncio.sleep(0)  # the lookup's task exists and has not run yet
    cache._loading[1].cancel()  # as a server shutting tasks down would
    async with asyncio.timeout(5):  # it must not spin on the cancelled lookup
        assert await asking == clerk
    assert lookups == 1
