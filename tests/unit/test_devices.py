"""Device cookies name a browser that has signed in before, and nobody can make one up."""

from __future__ import annotations

import hashlib
import time

import pytest

from purchasing.web.devices import MAX_AGE_S, Device, DeviceCookies, account_key

SECRET = "test-secret-key"
COOKIES = DeviceCookies(SECRET)


def key(username: str) -> str:
    return account_key(username, SECRET)


def signed_in(*usernames: str, device: Device | None = None) -> Device:
    """The device a browser holds after signing in as each of `usernames` in turn."""
    for username in usernames:
        found = COOKIES.read(COOKIES.issue(device, username, secure=False).value or "")
        assert found is not None
        device = found
    assert device is not None
    return device


def test_a_browser_that_signed_in_is_known_for_that_account_only() -> None:
    device = signed_in("admin")
    assert device.knows(key("admin"))
    assert device.knows(key(" Admin "))  # as the login form reads what was typed
    assert not device.knows(key("manager"))


def test_a_browser_keeps_its_id_and_its_latest_accounts() -> None:
    first = signed_in("admin")
    later = signed_in("a", "b", "c", "d", "e", device=first)
    assert later.id == first.id
    assert later.accounts == tuple(key(name) for name in "edcba")
    assert not later.knows(key("admin"))  # the sixth account back is forgotten


def test_the_cookie_is_httponly_lax_for_the_login_form_only_and_kept_a_year() -> None:
    cookie = COOKIES.issue(None, "admin", secure=True)
    assert (cookie.httponly, cookie.samesite, cookie.secure) == (True, "lax", True)
    assert (cookie.path, cookie.max_age) == ("/login", 365 * 24 * 3600)


def altered(value: str) -> list[str]:
    device_id, issued, account, signature = value.split(".")
    return [
        ".".join([device_id, issued, key("manager"), signature]),  # another account
        ".".join([device_id, issued, account, key("manager"), signature]),
        ".".join(["f" * 32, issued, account, signature]),  # another device
        ".".join([device_id, str(int(issued) + 1), account, signature]),  # later
        ".".join([device_id, issued, account, "0" * 32]),
        ".".join([device_id, issued, account, ""]),
        ".".join([device_id, issued, account, signature.upper()]),
        DeviceCookies("another-secret").issue(None, "admin", secure=False).value or "",
        "",
        "junk",
        "...",
        value + "." + signature,
        value * 3,
        value.replace(issued, "\u0661" * len(issued)),  # digits, but not ASCII ones
        "é" + value[1:],
    ]


def test_a_cookie_altered_or_signed_with_another_secret_names_no_device() -> None:
    value = COOKIES.issue(None, "admin", secure=False).value or ""
    assert COOKIES.read(value) is not None
    for forged in altered(value):
        assert COOKIES.read(forged) is None, forged


@pytest.mark.parametrize(("age_s", "known"), [(MAX_AGE_S - 60, True), (MAX_AGE_S, False)])
def test_a_cookie_is_good_for_a_year(age_s: int, known: bool) -> None:
    value = COOKIES.issue(None, "admin", secure=False).value or ""
    assert (COOKIES.read(value, now=time.time() + age_s) is not None) is known


def test_an_account_is_named_by_a_key_only_the_server_can_make() -> None:
    """What was typed as a username may be a password: it never shows as a plain hash."""
    assert key("admin") == key(" ADMIN ") != account_key("admin", "another-secret")
    assert key("admin") != hashlib.sha256(b"admin").hexdigest()[:32]
