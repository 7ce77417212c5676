"""Refusals worded for whoever reads them, in their language, whatever thread raised them."""

from __future__ import annotations

from typing import Any

from purchasing.i18n import _


class Worded(Exception):
    """An exception whose message is for a person: it keeps the message (marked with `N_` where
    it is raised) and its values, and words them when it is read (`str`), in the language of the
    reader. A message made on a thread that does not share the request's context (SQLite's writer
    thread, services/status.Move) is so still worded in the request's language.

    A value with an `in_words` (Status and Role: their label, Kind: its noun) is worded along
    with the message; any other value is put in as it is."""

    def __init__(self, message: str, **values: Any) -> None:
        super().__init__(message)
        self.message = message
        self.values = values

    def __str__(self) -> str:
        return _(self.message, **{name: _in_words(value) for name, value in self.values.items()})


def _in_words(value: Any) -> Any:
    return getattr(value, "in_words", value)
