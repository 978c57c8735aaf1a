"""Username rules (core/usernames.py): any alphabet, one name across case and width,
no look-alike mixes."""

from __future__ import annotations

import pytest

from inner_circle.core.usernames import InvalidUsername, fold, normalize, validate


@pytest.mark.parametrize(
    "name",
    ["anna", "Бабушка", "Γιάννης", "mary-jane.2", "дед_Мороз", "李小龙", "नमस्ते", "Obr"],
)
def test_names_in_any_alphabet_are_accepted(name: str) -> None:
    assert validate(name) == normalize(name)


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("ab", "3 to 32"),
        ("x" * 33, "3 to 32"),
        ("баба яга", "only letters"),
        ("anna!", "only letters"),
        ("a\u200bnna", "only letters"),  # a zero-width space
        ("...", "at least one"),
        ("bаbushka", "mix"),  # Cyrillic а among Latin letters
        ("Бaбушка", "mix"),  # Latin a among Cyrillic letters
        ("αlpha", "mix"),  # Greek alpha with Latin
    ],
)
def test_bad_names_are_refused_with_a_reason(name: str, why: str) -> None:
    with pytest.raises(InvalidUsername, match=why):
        validate(name)


def test_one_name_across_case_and_width() -> None:
    assert fold("Бабушка") == fold("бабушка") == fold("БАБУШКА")
    assert fold("ｂｏｂ") == fold("BOB") == "bob"
    assert normalize("ｂｏｂ") == "bob"
    assert fold("Straße") == fold("STRASSE")
    assert fold("babushka") != fold("bаbushka")  # the look-alike is another name (and refused)
