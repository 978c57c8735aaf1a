"""Text every database can store: no NUL characters (PostgreSQL refuses them in text).

A NUL that reached the database would fail the whole transaction there (a 500 on
PostgreSQL) or be stored on SQLite and break a later move to PostgreSQL; so the
edges refuse it up front with ``VALIDATION_FAILED``.
"""

from __future__ import annotations

import re
from typing import Any

from inner_circle.core.errors import ValidationFailed

__all__ = ["NUL_MESSAGE", "json_has_nul", "reject_nul"]

NUL_MESSAGE = "Text must not contain NUL (\\u0000) characters"
# \u0000 in JSON text, unless its backslash is itself escaped (\\u0000 is harmless text).
_ESCAPED_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")
MAX_DEPTH = 64


def json_has_nul(body: bytes) -> bool:
    return b"\x00" in body or _ESCAPED_NUL.search(body) is not None


def reject_nul(value: Any, depth: int = 0) -> None:
    """Raise ValidationFailed if any string in a decoded JSON value holds a NUL."""
    if depth > MAX_DEPTH:
        raise ValidationFailed("The payload is nested too deeply")
    if isinstance(value, str):
        if "\x00" in value:
            raise ValidationFailed(NUL_MESSAGE)
    elif isinstance(value, dict):
        for key, item in value.items():
            reject_nul(key, depth + 1)
            reject_nul(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            reject_nul(item, depth + 1)
