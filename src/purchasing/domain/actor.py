"""Who is acting: the signed-in user as the rules see them."""

from __future__ import annotations

from dataclasses import dataclass, field

from purchasing.domain.roles import Role


@dataclass(frozen=True)
class Actor:
    id: int
    username: str
    full_name: str
    role: Role
    company_id: int | None
    farm_ids: frozenset[int] = field(default_factory=frozenset)
    language: str = ""  # chosen on their account; '' when never chosen. Not part of the grant.

    @property
    def sees_everything(self) -> bool:
        return self.role is Role.SUPER_ADMIN

    @property
    def grant(self) -> tuple[object, ...]:
        """Everything that decides what the actor may see and do: two actors with the same
        grant are shown the same rows and offered the same moves."""
        return (self.role.value, self.company_id, tuple(sorted(self.farm_ids)))
