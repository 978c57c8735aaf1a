"""Sync cursors: ``<epoch>:<id>``, where the epoch names one database's history.

A cursor is only meaningful to the database that issued it. Restoring a backup (or
starting on a new database) gives the database a new epoch, so a cursor from before
is recognised as foreign and the client is told to start fresh, even when its id is
below the newest one (a plain id could not tell). Clients treat cursors as opaque
strings. Plain integer cursors (from servers before epochs) are still accepted: they
carry no epoch and are judged by their id alone, as they were.
"""

from __future__ import annotations

import re

from inner_circle.core import limits

__all__ = ["CURSOR_PATTERN", "Cursor", "format_cursor", "parse_cursor"]

EPOCH_PATTERN = r"[0-9a-z]{1,32}"
CURSOR_PATTERN = rf"^(?:{EPOCH_PATTERN}:)?[0-9]{{1,19}}$"
_CURSOR = re.compile(rf"^(?:(?P<epoch>{EPOCH_PATTERN}):)?(?P<id>[0-9]{{1,19}})$")


class Cursor(tuple[str | None, int]):
    """``(epoch or None, id)``."""

    __slots__ = ()

    def __new__(cls, epoch: str | None, position: int) -> Cursor:
        return super().__new__(cls, (epoch, position))

    @property
    def epoch(self) -> str | None:
        return self[0]

    @property
    def id(self) -> int:
        return self[1]


def format_cursor(epoch: str, position: int) -> str:
    """The cursor a client stores after reading up to ``position`` of ``epoch``."""
    return f"{epoch}:{position}"


def parse_cursor(value: str | int) -> Cursor:
    """Read a cursor; raises ValueError for anything that is not one."""
    if isinstance(value, bool):
        raise ValueError("not a cursor")
    if isinstance(value, int):
        if not 0 <= value <= limits.CURSOR_MAX:
            raise ValueError("cursor out of range")
        return Cursor(None, value)
    match = _CURSOR.match(value)
    if match is None:
        raise ValueError("not a cursor")
    position = int(match["id"])
    if position > limits.CURSOR_MAX:
        raise ValueError("cursor out of range")
    return Cursor(match["epoch"], position)
