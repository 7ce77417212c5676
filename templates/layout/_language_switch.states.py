"""The language switch as the header shows it: the language in use is the one pressed (the
gallery's own page is read in the language its request chose)."""

from typing import Any

FRAME = "topbar"

STATES: dict[str, dict[str, Any]] = {"in the header": {}}
