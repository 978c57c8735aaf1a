"""What counts as one reaction emoji: a single emoji grapheme, never arbitrary text.

Accepted: one pictograph (with an optional variation selector and skin tone), joined by
zero-width joiners into one sequence (👨‍👩‍👧), a keycap (1️⃣), a flag of two regional
indicators (🇷🇺) or of tag characters (🏴 + tags). Bounded in length.
"""

from __future__ import annotations

import unicodedata

__all__ = ["EMOJI_MAX_CHARS", "is_emoji"]

EMOJI_MAX_CHARS = 16  # code points; the longest real sequences (families, tag flags) fit

ZWJ = "\u200d"
VARIATION = {"\ufe0f", "\ufe0e"}
KEYCAP = "\u20e3"
KEYCAP_BASES = set("0123456789#*")


def _is_modifier(ch: str) -> bool:
    code = ord(ch)
    return ch in VARIATION or 0x1F3FB <= code <= 0x1F3FF or 0xE0020 <= code <= 0xE007F


def _is_regional(ch: str) -> bool:
    return 0x1F1E6 <= ord(ch) <= 0x1F1FF


def _is_pictograph(ch: str) -> bool:
    return unicodedata.category(ch) == "So" and not _is_regional(ch) and ord(ch) >= 0x2000


def _segment_ok(segment: str) -> bool:
    """One part between joiners: a base and its modifiers."""
    if not segment:
        return False
    base, rest = segment[0], segment[1:]
    if base in KEYCAP_BASES:
        return rest in (KEYCAP, "\ufe0f" + KEYCAP)
    if _is_regional(base):
        return len(rest) == 1 and _is_regional(rest)
    if not _is_pictograph(base):
        return False
    return all(_is_modifier(ch) for ch in rest)


def is_emoji(value: str) -> bool:
    """True when ``value`` is exactly one emoji (see the module docstring)."""
    if not value or len(value) > EMOJI_MAX_CHARS:
        return False
    return all(_segment_ok(part) for part in value.split(ZWJ))
