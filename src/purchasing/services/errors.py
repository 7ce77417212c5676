"""Failures a clerk can cause; each carries a message for the page."""

from __future__ import annotations


class NotFound(Exception):
    """No such record, or not one the actor may see."""


class Conflict(Exception):
    """The record changed since the clerk loaded it."""


class ValidationFailed(Exception):
    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors
