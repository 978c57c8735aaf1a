"""Display names and blank text: pure rules (core/text.py)."""

from __future__ import annotations

import pytest

from inner_circle.core.text import clean_display_name, is_blank, name_key, strip_invisible

RLO, LRM, ZWSP, ZWJ, BOM, WJ = "\u202e", "\u200e", "\u200b", "\u200d", "\ufeff", "\u2060"


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("Anna", "Anna"),
        ("  Anna   Karenina \n", "Anna Karenina"),
        (f"{RLO}anna", "anna"),
        (f"An{ZWSP}na{LRM}", "Anna"),
        ("\u2066Anna\u2069", "Anna"),  # isolates (LRI ... PDI)
        (f"{BOM}Anna\u00ad", "Anna"),  # byte-order mark, soft hyphen
        ("Ａｎｎａ", "Anna"),  # fullwidth letters: NFKC
        ("ﬁona", "fiona"),  # ligature: NFKC
        ("Anna\u3000K", "Anna K"),  # ideographic space
        ("Anna\u2028K", "Anna K"),  # line separator
        ("Anna\x07", "Anna"),  # control character
        ("\u3164", ""),  # Hangul filler: looks like nothing
        (f"{ZWSP}{ZWJ}{RLO}", ""),
        ("Анна", "Анна"),
        ("e\u0301", "é"),  # composed by NFKC
    ],
)
def test_clean_display_name(raw: str, clean: str) -> None:
    assert clean_display_name(raw) == clean


def test_name_key_folds_case_width_and_invisibles() -> None:
    key = name_key("Anna")
    for copy in ("anna", "ANNA", "Ａｎｎａ", f"{RLO}Anna", f"An{ZWSP}na", " anna "):
        assert name_key(copy) == key, copy
    assert name_key("Straße") == name_key("STRASSE")  # casefold, not lower
    assert name_key("Анна") == name_key("АННА")
    assert name_key("Anna K") != name_key("Anna")
    assert name_key("Anna") != name_key("Anne")


@pytest.mark.parametrize(
    ("text", "blank"),
    [
        ("", True),
        ("   \n\t", True),
        (ZWSP, True),
        (f"{ZWSP}{WJ}{LRM} {BOM}", True),
        ("\u2800", True),  # braille blank
        ("a", False),
        (f"{ZWSP}a", False),
        ("👨\u200d👩\u200d👧", False),  # an emoji family: joiners between visible emoji
        ("·", False),
    ],
)
def test_is_blank(text: str, blank: bool) -> None:
    assert is_blank(text) is blank


def test_strip_invisible_keeps_visible_text() -> None:
    assert strip_invisible(f"שלום{LRM} world") == "שלום world"


def test_is_blank_means_nothing_left_once_invisibles_and_whitespace_go() -> None:
    # Every character of the Basic Multilingual Plane, alone and after an invisible one:
    # the early-exit check agrees with its definition.
    for code in range(0x10000):
        char = chr(code)
        if 0xD800 <= code <= 0xDFFF:
            continue  # surrogates are not characters
        for text in (char, f"{ZWSP} {char}", f"{char}\u3164"):
            assert is_blank(text) is (not strip_invisible(text).strip()), repr(text)
