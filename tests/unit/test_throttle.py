"""Login limits that hold when attempts arrive all at once."""

from __future__ import annotations

import asyncio

from purchasing.web.throttle import LoginThrottle, MemoryCounts


def throttle(per_account: int = 5, per_ip: int = 20) -> LoginThrottle:
    return LoginThrottle(MemoryCounts(), per_account=per_account, per_ip=per_ip, lockout_minutes=15)


async def test_of_a_hundred_simultaneous_attempts_from_one_address_only_the_limit_goes_on() -> None:
    limits = throttle(per_account=1000, per_ip=20)
    refusals = await asyncio.gather(*(limits.admit(f"user{n}", "10.0.0.9") for n in range(100)))
    assert refusals.count("") == 20
    assert {r for r in refusals if r} == {
        "Too many failed logins from this address. Try again in 15 minutes."
    }


async def test_an_account_is_limited_whatever_the_address() -> None:
    limits = throttle(per_account=5, per_ip=1)
    refusals = await asyncio.gather(*(limits.admit("admin", f"10.0.0.{n}") for n in range(50)))
    assert refusals.count("") == 5
    # A refused attempt keeps no place: its address may still try another account.
    refused = next(n for n, refusal in enumerate(refusals) if refusal)
    assert await limits.admit("manager", f"10.0.0.{refused}") == ""


async def test_a_success_gives_its_place_back_and_clears_the_account() -> None:
    limits = throttle(per_account=3, per_ip=3)
    for _ in range(2):
        assert await limits.admit("admin", "10.0.0.1") == ""  # two failures
    assert await limits.admit("admin", "10.0.0.1") == ""
    await limits.succeeded("admin", "10.0.0.1")
    assert await limits.admit("admin", "10.0.0.1") == ""  # the account starts again
    assert await limits.admit("admin", "10.0.0.1") != ""  # the address holds 3 failures


async def test_an_attempt_withdrawn_counts_for_nothing() -> None:
    limits = throttle(per_account=1, per_ip=1)
    assert await limits.admit("admin", "10.0.0.1") == ""
    await limits.withdraw("admin", "10.0.0.1")
    assert await limits.admit("admin", "10.0.0.1") == ""


async def test_counts_whose_window_ended_are_swept() -> None:
    counts = MemoryCounts()
    await counts.take("ended", window_s=0)
    await counts.take("open", window_s=60)
    assert await counts.sweep() == 1
    assert await counts.take("open", window_s=60) == 2
    assert await counts.take("ended", window_s=60) == 1
