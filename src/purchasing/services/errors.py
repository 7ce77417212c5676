"""Failures a clerk can cause; each carries a message for the page."""

from __future__ import annotations

from purchasing.domain.worded import Worded


class NotFound(Worded):
    """No such record, or not one the actor may see. Its message is worded when read
    (domain/worded): give it marked with `N_` and its values apart."""


class Conflict(Worded):
    """The record changed since the clerk loaded it, or can no longer be changed this way. Its
    message is worded when read (domain/worded), as NotFound's."""


class StaleEdit(Conflict):
    """The record is at another version than the one the clerk's form was opened at."""


class ValidationFailed(Exception):
    """Messages for the fields a clerk got wrong, by field name: worded already, where they were
    found (the exception's own text, field names and all, is for the logs)."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors
