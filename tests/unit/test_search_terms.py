"""The words search compares (core/search_terms.py): the same stems for the text and the
query, in Russian and English, whatever the case, ё/е and accents."""

from __future__ import annotations

import pytest

from inner_circle.core.search_terms import Query, highlights, parse_query, terms


@pytest.mark.parametrize(
    ("text", "stems"),
    [
        ("Рецепты, РЕЦЕПТАМИ и рецепт!", "рецепт рецепт и рецепт"),
        ("Ёлка и елки", "елк и елк"),
        ("Recipes: a recipe", "recip a recip"),
        ("Café naïve", "cafe naiv"),
        ("Мой район", "мо район"),  # й stays a letter of its own
        ("snake_case 2026-11-26 🎄", "snake case 2026 11 26"),
    ],
)
def test_text_becomes_stems(text: str, stems: str) -> None:
    assert terms(text) == stems


def test_a_query_is_stemmed_like_the_text() -> None:
    assert parse_query("Рецептами ") == Query(words=("рецепт",), prefix=None)
    assert parse_query("рецепты пирог") == Query(words=("рецепт",), prefix="пирог")
    # A typed stem too short to search by gives way to the letters typed.
    assert parse_query("ойе") == Query(words=(), prefix="ойе")
    assert parse_query("ой") == Query(words=("ой",), prefix=None)
    assert parse_query("!!! ...") is None
    with pytest.raises(ValueError):
        parse_query("слово " * 13)


def test_highlights_count_utf16_units() -> None:
    text = "🎄 Купи ёлки, ЕЛКИ!"
    query = parse_query("елка ")
    assert query is not None
    ranges = highlights(text, query)
    units = text.encode("utf-16-le")
    assert [units[2 * a : 2 * b].decode("utf-16-le") for a, b in ranges] == ["ёлки", "ЕЛКИ"]
    assert ranges[0] == (8, 12)  # the emoji is two units in JavaScript
