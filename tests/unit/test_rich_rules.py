"""Rules of rich messaging without I/O: what one reaction emoji is, whom a text mentions."""

from __future__ import annotations

import uuid

import pytest

from inner_circle.core.emoji import is_emoji
from inner_circle.core.mentions import mentioned
from inner_circle.server.services.rich import preview


@pytest.mark.parametrize(
    "value", ["👍", "❤️", "😂", "😮", "😢", "🙏", "👍🏽", "👨‍👩‍👧", "1️⃣", "🇷🇺", "🏴󠁧󠁢󠁳󠁣󠁴󠁿", "❤"]
)
def test_single_emoji_are_accepted(value: str) -> None:
    assert is_emoji(value)


@pytest.mark.parametrize(
    "value",
    [
        "",
        " ",
        "a",
        "1",
        "ok",
        "👍👍",
        "👍 ",
        " 👍",
        "hi👍",
        "🇷",
        "©",
        "\u200d",
        "👍\u200d",
        "<b>",
        "👍" * 20,
    ],
)
def test_anything_else_is_refused(value: str) -> None:
    assert not is_emoji(value)


ANNA, BORIS, CARL = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
MEMBERS = [(ANNA, "anna", "Anna K"), (BORIS, "boris", "Борис"), (CARL, "carl", "Carl Jr")]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("@anna, look", [ANNA]),
        ("@ANNA and @борис", [ANNA, BORIS]),
        ("hi @Carl Jr!", [CARL]),
        ("@annabel is someone else", []),
        ("mail anna@example.org", []),
        ("write to me@anna", []),
        ("(@anna)", [ANNA]),
        ("@anna.k is not anna", []),
        ("no mention", []),
        ("@", []),
    ],
)
def test_mentions_name_members_by_username_or_display_name(
    text: str, expected: list[uuid.UUID]
) -> None:
    assert mentioned(text, MEMBERS) == expected


def test_preview_is_the_first_line_bounded() -> None:
    assert preview("\n\n  Buy milk  \nand bread") == "Buy milk"
    assert preview("") == ""
    long = preview("x" * 500)
    assert len(long) == 120 and long.endswith("…")
