"""The words search compares: message text and queries turned into the same stems.

Both databases index the output of :func:`terms` (ADR 0015), so SQLite and PostgreSQL
answer a query identically: words are case-folded, ``ё`` reads as ``е``, Latin letters
lose their accents, and every word is reduced to its Snowball stem, Russian for a word
in Cyrillic, English for one in Latin letters ("рецептами" → "рецепт", "recipes" →
"recip"). Anything else (digits, other scripts) is kept as written.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

import snowballstemmer

__all__ = ["Query", "highlights", "parse_query", "terms"]

# Letters and digits; the underscore and every other sign separate words.
_WORD = re.compile(r"[^\W_]+")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_LATIN = re.compile(r"[a-z]")
# The breve makes "й" from "и": a letter of its own in Russian, not an accent.
_KEEP_MARKS = {"\u0306"}
# A prefix shorter than this would match a large share of every word ever written.
PREFIX_MIN = 3
# A query longer than this many words is refused before it reaches the database.
QUERY_WORDS_MAX = 12

_russian = snowballstemmer.stemmer("russian")
_english = snowballstemmer.stemmer("english")


def _fold(word: str) -> str:
    decomposed = unicodedata.normalize("NFD", word.casefold())
    kept = "".join(ch for ch in decomposed if ch in _KEEP_MARKS or not unicodedata.combining(ch))
    return unicodedata.normalize("NFC", kept)


@lru_cache(maxsize=65536)
def _stem(word: str) -> str:
    folded = _fold(word)
    if _CYRILLIC.search(folded):
        return str(_russian.stemWord(folded))
    if _LATIN.search(folded):
        return str(_english.stemWord(folded))
    return folded


def _words(text: str) -> Iterator[re.Match[str]]:
    return _WORD.finditer(text)


def terms(text: str) -> str:
    """The stems of ``text``, separated by spaces: what the search index holds."""
    return " ".join(_stem(m.group()) for m in _words(text))


@dataclass(frozen=True, slots=True)
class Query:
    """A parsed query: every word must occur; the last one may be a word being typed
    (``prefix``), matched as the start of a stem."""

    words: tuple[str, ...]
    prefix: str | None

    def stems(self) -> tuple[str, ...]:
        return self.words + ((self.prefix,) if self.prefix else ())

    def matches(self, stem: str) -> bool:
        return stem in self.words or (self.prefix is not None and stem.startswith(self.prefix))


def parse_query(text: str) -> Query | None:
    """The query's stems, or None when it holds no word at all.

    Raises ValueError when it holds more than ``QUERY_WORDS_MAX`` words.
    """
    words = [m.group() for m in _words(text)]
    if not words:
        return None
    if len(words) > QUERY_WORDS_MAX:
        raise ValueError(f"at most {QUERY_WORDS_MAX} words")
    *exact, last = [_stem(word) for word in words]
    exact = list(dict.fromkeys(exact))
    if text[-1:].isspace():  # "рецепт " is a finished word; "рецеп" is being typed
        return Query(tuple(dict.fromkeys([*exact, last])), None)
    # A stem is a prefix of its word, so the typed word's stem starts every word it may
    # become; a stem too short to search by (many words start so) gives way to the letters.
    if len(last) < PREFIX_MIN:
        last = _fold(words[-1])
    if len(last) < PREFIX_MIN:
        return Query(tuple(dict.fromkeys([*exact, last])), None)
    return Query(tuple(exact), last)


def _utf16(text: str, index: int) -> int:
    """Position ``index`` (in code points) counted in UTF-16 code units, as JavaScript
    and Dart index strings."""
    return len(text[:index].encode("utf-16-le")) // 2


def highlights(text: str, query: Query) -> list[tuple[int, int]]:
    """[start, end) ranges of the words of ``text`` that match ``query``, in UTF-16
    code units."""
    return [
        (_utf16(text, m.start()), _utf16(text, m.end()))
        for m in _words(text)
        if query.matches(_stem(m.group()))
    ]
