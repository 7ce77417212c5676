"""Piccolo's configuration module; the engine itself is chosen in `purchasing.db`."""

from typing import Any

from piccolo.conf.apps import AppRegistry

APP_REGISTRY = AppRegistry(apps=["purchasing.piccolo_app"])


def __getattr__(name: str) -> Any:
    if name == "DB":
        from purchasing.db import current_engine

        return current_engine()
    raise AttributeError(name)
