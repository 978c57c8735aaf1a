"""Usernames: what a family may call itself, and when two names are the same name.

Families write names in their own alphabet (``Бабушка``, ``Γιάννης``), so any
letter is allowed, with digits and ``_ . -``. Two names that differ only in case
or in Unicode compatibility forms are one name (``Бабушка`` = ``бабушка``,
``ｂｏｂ`` = ``bob``): :func:`fold` gives the form the database keeps unique.
A name that mixes look-alike alphabets (Latin ``b`` with a Cyrillic ``а``) is
refused, so ``bаbushka`` cannot pass for ``babushka``.
"""

from __future__ import annotations

import unicodedata

from inner_circle.core import limits

__all__ = ["InvalidUsername", "fold", "normalize", "scripts_of", "shown_name", "validate"]

PUNCTUATION = frozenset("_.-")
# Alphabets whose letters look alike; a name may use at most one of them.
CONFUSABLE_SCRIPTS = frozenset({"LATIN", "CYRILLIC", "GREEK"})


class InvalidUsername(ValueError):
    """The name breaks a rule; the message says which, in words a person understands."""


def normalize(name: str) -> str:
    """The stored form: NFKC (full-width and ligature forms become plain letters), no
    surrounding spaces."""
    return unicodedata.normalize("NFKC", name).strip()


def shown_name(username: str, display_name: str | None) -> str:
    """The name people see: the display name when a member set one, else the username."""
    return display_name or username


def fold(name: str) -> str:
    """The comparison form: two names are the same when their folds are equal."""
    return unicodedata.normalize("NFKC", normalize(name).casefold())


def _script(char: str) -> str:
    """The alphabet of a letter, from its Unicode name (``CYRILLIC SMALL LETTER A``)."""
    return unicodedata.name(char, "UNKNOWN").split(" ", 1)[0]


def scripts_of(name: str) -> set[str]:
    """The alphabets of the letters in ``name``."""
    return {_script(char) for char in name if char.isalpha()}


def validate(name: str) -> str:
    """Return the normalized name, or raise :class:`InvalidUsername`.

    Rules: 3 to 32 characters after NFKC; letters of any alphabet (with their
    combining marks), digits 0-9, ``_``, ``.`` and ``-``; at least one letter or
    digit; letters from at most one of the look-alike alphabets Latin, Cyrillic
    and Greek.
    """
    value = normalize(name)
    if not limits.USERNAME_MIN <= len(value) <= limits.USERNAME_MAX:
        raise InvalidUsername(
            f"A username has {limits.USERNAME_MIN} to {limits.USERNAME_MAX} characters"
        )
    for index, char in enumerate(value):
        if char.isalpha() or char in "0123456789" or char in PUNCTUATION:
            continue
        if unicodedata.category(char).startswith("M") and index > 0:
            continue  # a combining mark on a letter (Devanagari vowel signs, accents)
        raise InvalidUsername(
            "A username may contain only letters, digits and _ . - (no spaces or symbols)"
        )
    if all(char in PUNCTUATION for char in value):
        raise InvalidUsername("A username needs at least one letter or digit")
    if len(scripts_of(value) & CONFUSABLE_SCRIPTS) > 1:
        raise InvalidUsername(
            "A username may not mix Latin, Cyrillic and Greek letters (they look alike)"
        )
    return value
