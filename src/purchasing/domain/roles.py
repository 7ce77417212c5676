"""Roles, from most to least powerful."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    SUPER_ADMIN = "superadmin"
    ADMINISTRATOR = "administrator"
    MANAGER = "manager"
    SUPERVISOR = "supervisor"
    OPERATOR = "operator"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]

    @property
    def a_label(self) -> str:
        """`an Operator`, `a Manager`: the role with its article."""
        article = "an" if self.label[0] in "AEIOU" else "a"
        return f"{article} {self.label}"

    @property
    def rank(self) -> int:
        return len(RANKED) - RANKED.index(self)

    def at_least(self, other: Role) -> bool:
        return self.rank >= other.rank


RANKED = list(Role)
ROLE_LABELS = {
    Role.SUPER_ADMIN: "SuperAdmin",
    Role.ADMINISTRATOR: "Administrator",
    Role.MANAGER: "Manager",
    Role.SUPERVISOR: "Supervisor",
    Role.OPERATOR: "Operator",
}
