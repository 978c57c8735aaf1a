"""Rules for the text people see: display names that cannot hide or pose, and messages
that are not blank in disguise.

A display name is shown next to every message, so it must not carry characters that
are invisible or reorder what is around them (right-to-left overrides, zero-width
spaces, Hangul fillers), and must not be a look-alike copy of another member's name:
``clean_display_name`` normalises (NFKC), drops format (Unicode category Cf) and control
characters and invisible fillers, and collapses whitespace; ``name_key`` folds a name
(case-insensitively, after normalisation) so "Anna", "ANNA" and "Ａｎｎａ" compare equal.

Message text is stored as sent (joiners and direction marks are needed by emoji and
right-to-left scripts); it only has to contain something visible: ``is_blank``.
"""

from __future__ import annotations

import functools
import unicodedata

__all__ = ["clean_display_name", "is_blank", "name_key", "strip_invisible"]

# Letters and symbols that render as nothing but are not category Cf.
INVISIBLE = frozenset(
    {
        "\u034f",  # combining grapheme joiner
        "\u115f",  # Hangul choseong filler
        "\u1160",  # Hangul jungseong filler
        "\u17b4",  # Khmer vowel inherent aq
        "\u17b5",  # Khmer vowel inherent aa
        "\u2800",  # braille pattern blank
        "\u3164",  # Hangul filler
        "\uffa0",  # halfwidth Hangul filler
    }
)


def _hidden(char: str) -> bool:
    category = unicodedata.category(char)
    return category == "Cf" or (category == "Cc" and not char.isspace()) or char in INVISIBLE


def strip_invisible(text: str) -> str:
    """``text`` without format characters (Cf: bidi controls, zero-width spaces and joiners,
    the byte-order mark, soft hyphens, tags), controls other than whitespace, and fillers."""
    return "".join(char for char in text if not _hidden(char))


def is_blank(text: str) -> bool:
    """True when nothing visible remains once whitespace and invisible characters are removed.

    Stops at the first visible character (every message sent is checked: usually the first)."""
    return not any(not char.isspace() and not _hidden(char) for char in text)


def clean_display_name(name: str) -> str:
    """The form a display name is stored in: NFKC, nothing invisible, single spaces, trimmed.

    May return an empty string (a name made only of invisible characters); callers refuse it.
    """
    text = strip_invisible(unicodedata.normalize("NFKC", name))
    text = " ".join(text.split())  # every kind of whitespace and line break: one space
    return unicodedata.normalize("NFKC", text)


@functools.lru_cache(maxsize=8192)  # a family's names, folded once each
def name_key(name: str) -> str:
    """What two names are compared by: cleaned, case-folded, normalised again
    (NFKC_Casefold-like), so copies differing only in case, width or invisibles collide."""
    folded = clean_display_name(name).casefold()
    return unicodedata.normalize("NFKC", folded)
