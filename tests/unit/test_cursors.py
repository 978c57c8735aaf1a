"""Sync cursors: ``<epoch>:<id>``, with plain integers from before epochs still read."""

from __future__ import annotations

import pytest

from inner_circle.core import limits
from inner_circle.core.cursors import format_cursor, parse_cursor


def test_a_cursor_round_trips() -> None:
    cursor = parse_cursor(format_cursor("a1b2c3d4", 42))
    assert (cursor.epoch, cursor.id) == ("a1b2c3d4", 42)


@pytest.mark.parametrize("legacy", [0, 17, "17"])
def test_plain_integer_cursors_have_no_epoch(legacy: int | str) -> None:
    assert parse_cursor(legacy) == (None, 17 if legacy else 0)


@pytest.mark.parametrize(
    "bad", ["", "x", ":5", "a1:", "A1:5", "a1:-5", "a1:5:6", -1, True, limits.CURSOR_MAX + 1]
)
def test_anything_else_is_refused(bad: object) -> None:
    with pytest.raises(ValueError):
        parse_cursor(bad)  # type: ignore[arg-type]
