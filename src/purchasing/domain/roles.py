"""Roles, from most to least powerful."""

from __future__ import annotations

from enum import StrEnum

from purchasing.i18n import N_, _


class Role(StrEnum):
    SUPER_ADMIN = "superadmin"
    ADMINISTRATOR = "administrator"
    MANAGER = "manager"
    SUPERVISOR = "supervisor"
    OPERATOR = "operator"

    @property
    def label(self) -> str:
        return _(ROLE_LABELS[self])

    @property
    def in_words(self) -> str:
        """The role inside a sentence (domain/worded): its label."""
        return self.label

    @property
    def a_label(self) -> str:
        """`an Operator`, `a Manager`: the role with its article (a whole phrase: a language
        without articles words it as the role alone)."""
        return _(A_LABELS[self])

    @property
    def rank(self) -> int:
        return len(RANKED) - RANKED.index(self)

    def at_least(self, other: Role) -> bool:
        return self.rank >= other.rank


RANKED = list(Role)
# Marked here, translated where shown (`Role.label`, `Role.a_label`).
ROLE_LABELS = {
    Role.SUPER_ADMIN: N_("SuperAdmin"),
    Role.ADMINISTRATOR: N_("Administrator"),
    Role.MANAGER: N_("Manager"),
    Role.SUPERVISOR: N_("Supervisor"),
    Role.OPERATOR: N_("Operator"),
}
A_LABELS = {
    Role.SUPER_ADMIN: N_("a SuperAdmin"),
    Role.ADMINISTRATOR: N_("an Administrator"),
    Role.MANAGER: N_("a Manager"),
    Role.SUPERVISOR: N_("a Supervisor"),
    Role.OPERATOR: N_("an Operator"),
}
