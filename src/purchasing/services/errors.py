"""Failures a clerk can cause; each carries a message for the page."""

from __future__ import annotations


class NotFound(Exception):
    """No such record, or not one the actor may see."""


class Conflict(Exception):
    """The record changed since the clerk loaded it, or can no longer be changed this way."""


class StaleEdit(Conflict):
    """The record is at another version than the one the clerk's form was opened at."""


class ValidationFailed(Exception):
    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors
