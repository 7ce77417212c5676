"""Login limits that hold when attempts arrive all at once, and that lock out the sources that
fail, never an owner on a browser they have signed in with before."""

from __future__ import annotations

import asyncio
import logging

import pytest
from prometheus_client import REGISTRY

from purchasing.web.devices import Device, account_key
from purchasing.web.throttle import Attempt, LoginThrottle, MemoryCounts

ADDRESS_LOCKED = "Too many failed logins from this address. Try again in 15 minutes."
DEVICE_LOCKED = "Too many failed logins from this browser. Try again in 15 minutes."
ACCOUNT_LOCKED = "Too many failed logins for this account. Try again in 15 minutes."
ACCOUNT_LOCKED_EVERYWHERE = (
    "Too many failed logins for this account. Log in from a browser you have logged in with "
    "before, or try again in 15 minutes."
)


SECRET = "test-secret-key"


def key(username: str) -> str:
    return account_key(username, SECRET)


def throttle(per_account: int = 5, per_ip: int = 20, per_account_global: int = 50) -> LoginThrottle:
    return LoginThrottle(
        MemoryCounts(),
        secret=SECRET,
        per_account=per_account,
        per_ip=per_ip,
        per_account_global=per_account_global,
        lockout_minutes=15,
    )


def browser(n: int, *usernames: str) -> Device:
    """The n-th browser, which has signed in to these accounts before."""
    return Device(f"{n:032x}", tuple(key(name) for name in usernames))


async def fail(limits: LoginThrottle, username: str, ip: str, device: Device | None = None) -> str:
    """One wrong password: why it was refused, or '' when it was tried (and failed)."""
    attempt = await limits.admit(username, ip, device)
    if not attempt.refusal:
        limits.failed(attempt)
    return attempt.refusal


def refusals(attempts: list[Attempt]) -> list[str]:
    return [attempt.refusal for attempt in attempts]


async def test_of_a_hundred_simultaneous_attempts_from_one_address_only_the_limit_goes_on() -> None:
    limits = throttle(per_account=1000, per_ip=20)
    attempts = await asyncio.gather(*(limits.admit(f"user{n}", "10.0.0.9") for n in range(100)))
    assert refusals(attempts).count("") == 20
    assert set(refusals(attempts)) - {""} == {ADDRESS_LOCKED}


async def test_an_account_is_limited_from_each_address() -> None:
    limits = throttle(per_account=5, per_ip=100)
    attempts = await asyncio.gather(*(limits.admit("admin", "10.0.0.1") for _ in range(50)))
    assert refusals(attempts).count("") == 5
    assert set(refusals(attempts)) - {""} == {ACCOUNT_LOCKED}
    # Refused attempts keep no place: the address may still try another account, and another
    # address this one.
    assert (await limits.admit("manager", "10.0.0.1")).refusal == ""
    assert (await limits.admit("admin", "10.0.0.2")).refusal == ""


async def test_an_account_has_a_ceiling_from_all_unknown_sources_together() -> None:
    limits = throttle(per_account=5, per_ip=1, per_account_global=10)
    attempts = await asyncio.gather(*(limits.admit("admin", f"10.0.0.{n}") for n in range(50)))
    assert refusals(attempts).count("") == 10
    assert set(refusals(attempts)) - {""} == {ACCOUNT_LOCKED_EVERYWHERE}
    # Past it, a browser that has signed in to another account is no better than an address.
    assert (await limits.admit("admin", "10.0.0.99", browser(1, "manager"))).refusal == (
        ACCOUNT_LOCKED_EVERYWHERE
    )


async def test_a_browser_that_signed_in_before_is_not_locked_out_by_failures_elsewhere() -> None:
    limits = throttle(per_account=5, per_ip=20, per_account_global=10)
    owners = browser(1, "admin")
    for n in range(20):  # from the owner's own office address too
        await fail(limits, "admin", f"10.0.0.{n % 4}")
    assert (await limits.admit("admin", "10.0.0.9")).refusal == ACCOUNT_LOCKED_EVERYWHERE
    assert (await limits.admit("admin", "10.0.0.0", owners)).refusal == ""


async def test_a_browser_that_signed_in_before_has_a_limit_of_its_own() -> None:
    limits = throttle(per_account=3, per_account_global=3)
    for _ in range(3):
        assert await fail(limits, "admin", "10.0.0.1", browser(1, "admin")) == ""
    assert (await limits.admit("admin", "10.0.0.1", browser(1, "admin"))).refusal == (
        ACCOUNT_LOCKED
    )
    # Its failures lock neither the owner's other browsers nor the account elsewhere.
    assert (await limits.admit("admin", "10.0.0.1", browser(2, "admin"))).refusal == ""
    assert (await limits.admit("admin", "10.0.0.2")).refusal == ""


async def test_two_browsers_behind_one_address_are_counted_apart() -> None:
    limits = throttle(per_account=100, per_ip=3)
    for username in ("admin", "manager", "nobody"):
        assert await fail(limits, username, "10.0.0.1", browser(1, "operator")) == ""
    assert (await limits.admit("admin", "10.0.0.1", browser(1, "operator"))).refusal == (
        DEVICE_LOCKED
    )
    # A colleague's browser behind the same address, and the address itself, are untouched.
    assert (await limits.admit("admin", "10.0.0.1", browser(2, "supervisor"))).refusal == ""
    assert (await limits.admit("admin", "10.0.0.1")).refusal == ""


async def test_browsers_without_a_device_cookie_share_their_address_count() -> None:
    limits = throttle(per_account=100, per_ip=3)
    for username in ("admin", "manager", "nobody"):
        assert await fail(limits, username, "10.0.0.1") == ""
    assert (await limits.admit("supervisor", "10.0.0.1")).refusal == ADDRESS_LOCKED
    assert (await limits.admit("supervisor", "10.0.0.1", browser(1, "manager"))).refusal == ""


async def test_a_success_forgets_its_sources_failures_but_not_those_from_elsewhere() -> None:
    limits = throttle(per_account=2, per_ip=100, per_account_global=4)
    await fail(limits, "admin", "10.0.0.9")
    await fail(limits, "admin", "10.0.0.1")
    await limits.succeeded(await limits.admit("admin", "10.0.0.1"))
    for _ in range(2):  # the account from this address starts again
        assert await fail(limits, "admin", "10.0.0.1") == ""
    assert (await limits.admit("admin", "10.0.0.1")).refusal == ACCOUNT_LOCKED
    # The ceiling still holds the failures from elsewhere and from before the success: 1 + 1 + 2.
    assert (await limits.admit("admin", "10.0.0.2")).refusal == ACCOUNT_LOCKED_EVERYWHERE


async def test_an_attempt_withdrawn_when_the_server_is_busy_counts_for_nothing() -> None:
    limits = throttle(per_account=1, per_ip=1, per_account_global=1)
    for device in (None, browser(1, "admin"), browser(2, "manager")):
        for _ in range(3):
            attempt = await limits.admit("admin", "10.0.0.1", device)
            assert attempt.refusal == ""
            await limits.withdraw(attempt)


def lockouts(scope: str) -> float:
    return REGISTRY.get_sample_value("purchasing_login_lockouts_total", {"scope": scope}) or 0.0


async def test_a_failure_that_fills_a_count_is_logged_and_counted_as_a_lockout(
    caplog: pytest.LogCaptureFixture,
) -> None:
    limits = throttle(per_account=2, per_ip=3, per_account_global=2)
    before = {scope: lockouts(scope) for scope in ("address", "account", "account_global")}
    with caplog.at_level(logging.WARNING, logger="purchasing.auth"):
        await fail(limits, "admin", "10.0.0.1", None)
        assert caplog.records == []
        await fail(limits, "Admin ", "10.0.0.1", None)
        await fail(limits, "manager", "10.0.0.1", None)
    assert {scope: lockouts(scope) - n for scope, n in before.items()} == {
        "address": 1,
        "account": 1,
        "account_global": 1,
    }
    logged = [
        (r.getMessage(), *(getattr(r, name) for name in ("scope", "account", "client")))
        for r in caplog.records
    ]
    assert logged == [
        ("login lockout", "account", key("admin"), "10.0.0.1"),
        ("login lockout", "account_global", key("admin"), "10.0.0.1"),
        ("login lockout", "address", key("manager"), "10.0.0.1"),
    ]


async def test_counts_whose_window_ended_are_swept() -> None:
    counts = MemoryCounts()
    await counts.take("ended", window_s=0)
    await counts.take("open", window_s=60)
    assert await counts.sweep() == 1
    assert await counts.take("open", window_s=60) == 2
    assert await counts.take("ended", window_s=60) == 1
