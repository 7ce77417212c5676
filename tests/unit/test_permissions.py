"""Every role x action x kind against the matrix written out by hand (README: who may do what)."""

from __future__ import annotations

import itertools

import pytest

from purchasing.domain.permissions import Action, Forbidden, can, require
from purchasing.domain.roles import Role
from purchasing.domain.statuses import Kind
from tests.helpers.permissions import EXPECTED

CASES = list(itertools.product(Role, Action, Kind))


@pytest.mark.parametrize(("role", "action", "kind"), CASES)
def test_the_matrix(role: Role, action: Action, kind: Kind) -> None:
    allowed = action.value in EXPECTED[role.value][kind.value]
    assert can(role, action, kind) is allowed
    if allowed:
        require(role, action, kind)
    else:
        with pytest.raises(Forbidden, match=f"may not .* {kind.value} purchases"):
            require(role, action, kind)


def test_every_case_is_covered() -> None:
    assert len(CASES) == 5 * 5 * 3
