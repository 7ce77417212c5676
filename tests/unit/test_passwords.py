"""Passwords are hashed with the app's profile, and a stronger profile reaches old hashes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from argon2 import extract_parameters

from purchasing.services.passwords import PROFILES, Passwords, dummy_hash, hash_password

STRONG = "RFC_9106_LOW_MEMORY"


@pytest.fixture
def hashing() -> Iterator[Passwords]:
    pool = Passwords(threads=1, waiting=2, profile=STRONG)
    yield pool
    pool.close()


async def test_new_hashes_use_the_apps_profile(hashing: Passwords) -> None:
    made = await hashing.hash("a long password")
    assert extract_parameters(made) == PROFILES[STRONG]
    assert await hashing.verify(made, "a long password")
    assert not await hashing.verify(made, "another password")


async def test_a_hash_of_weaker_parameters_is_upgraded_at_the_next_sign_in(
    hashing: Passwords,
) -> None:
    strong = await hashing.hash("a long password")
    assert await hashing.upgraded(strong, "a long password") is None
    weak = hash_password("a long password", "CHEAPEST")
    assert await hashing.verify(weak, "a long password")
    upgraded = await hashing.upgraded(weak, "a long password")
    assert upgraded is not None
    assert extract_parameters(upgraded) == PROFILES[STRONG]
    assert await hashing.verify(upgraded, "a long password")


async def test_an_unknown_user_is_checked_against_a_hash_of_the_apps_profile(
    hashing: Passwords,
) -> None:
    assert not await hashing.verify(None, "not-a-real-password")
    assert extract_parameters(dummy_hash(STRONG)) == PROFILES[STRONG]
