"""What a broker passes on to its reader, as tests watch it."""

from __future__ import annotations


class Heard:
    """What a broker passed on to its reader."""

    def __init__(self) -> None:
        self.ids: list[int | None] = []

    def __call__(self, event_id: int | None) -> None:
        self.ids.append(event_id)

    def newest(self) -> int:
        return max((i for i in self.ids if i is not None), default=0)
