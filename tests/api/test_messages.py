"""Sending and reading history over REST."""

from __future__ import annotations

import asyncio

import pytest

from inner_circle.sdk import BadRequest, NotFoundError
from tests.support import Family


async def test_messages_get_increasing_sequence_numbers(family: Family) -> None:
    anna = await family.member("anna")
    chat = await anna.family_chat()
    sent = [await anna.post_message(chat.id, f"m{i}") for i in range(5)]
    assert [m.seq for m in sent] == [1, 2, 3, 4, 5]
    assert all(m.sender.username == "anna" for m in sent)
    assert sent[0].created_at.tzinfo is not None


async def test_history_pages_by_sequence_and_offset(family: Family) -> None:
    anna = await family.member("anna")
    chat = await anna.family_chat()
    for i in range(1, 26):
        await anna.post_message(chat.id, f"m{i}")
    latest = await anna.history(chat.id, limit=10)
    assert [m.seq for m in latest] == list(range(16, 26))
    older = await anna.history(chat.id, limit=10, before=16)
    assert [m.seq for m in older] == list(range(6, 16))
    oldest = await anna.history(chat.id, limit=10, before=6)
    assert [m.seq for m in oldest] == [1, 2, 3, 4, 5]
    newer = await anna.history(chat.id, limit=7, after=20)
    assert [m.seq for m in newer] == [21, 22, 23, 24, 25]
    seed_style = await anna.history(chat.id, limit=5, offset=5)
    assert [m.seq for m in seed_style] == [6, 7, 8, 9, 10]  # the seed counted from the oldest
    response = await anna.request("GET", f"/messages/{chat.id}", params={"limit": 10, "before": 6})
    assert response.headers["X-Has-More"] == "false"


@pytest.mark.parametrize(
    "params", [{"limit": 0}, {"limit": 1000}, {"before": 0}, {"offset": -1}, {"limit": "many"}]
)
async def test_bad_history_queries(family: Family, params: dict[str, object]) -> None:
    anna = await family.member("anna")
    chat = await anna.family_chat()
    with pytest.raises(BadRequest) as error:
        await anna.request("GET", f"/messages/{chat.id}", params=params)
    assert error.value.code == "VALIDATION_FAILED"


async def test_same_client_message_id_stores_once(family: Family) -> None:
    anna = await family.member("anna")
    chat = await anna.family_chat()
    first = await anna.post_message(chat.id, "hello", client_message_id="c-1")
    again = await anna.post_message(chat.id, "hello", client_message_id="c-1")
    assert again.id == first.id
    retried = await asyncio.gather(
        *[anna.post_message(chat.id, "burst", client_message_id="c-2") for _ in range(8)]
    )
    assert len({m.id for m in retried}) == 1
    history = await anna.history(chat.id)
    assert [m.content for m in history] == ["hello", "burst"]
    assert [m.seq for m in history] == [1, 2]


async def test_client_ids_are_per_sender(family: Family) -> None:
    anna = await family.member("anna")
    boris = await family.member("boris")
    chat = await anna.family_chat()
    a = await anna.post_message(chat.id, "from anna", client_message_id="same")
    b = await boris.post_message(chat.id, "from boris", client_message_id="same")
    assert a.id != b.id


@pytest.mark.parametrize(
    "body",
    [
        {"content": ""},
        {"content": "   "},
        {"content": "x" * 4001},
        {"content": 42},
        {},
        {"content": "ok", "clientMessageId": "has spaces"},
        {"content": "ok", "clientMessageId": "x" * 65},
    ],
)
async def test_bad_messages_are_refused_and_not_stored(
    family: Family, body: dict[str, object]
) -> None:
    anna = await family.member("anna")
    chat = await anna.family_chat()
    with pytest.raises(BadRequest):
        await anna.request("POST", f"/messages/{chat.id}", json=body)
    assert await anna.history(chat.id) == []


async def test_unicode_and_long_messages_round_trip(family: Family) -> None:
    anna = await family.member("anna")
    chat = await anna.family_chat()
    text = "Привет 👋🏽 семья! <b>not html</b> " + "я" * 3900
    sent = await anna.post_message(chat.id, text)
    assert (await anna.history(chat.id))[0].content == text == sent.content


async def test_unknown_chat_is_not_found(family: Family) -> None:
    anna = await family.member("anna")
    with pytest.raises(NotFoundError):
        await anna.post_message("00000000-0000-0000-0000-000000000000", "hi")  # type: ignore[arg-type]
    with pytest.raises(BadRequest):
        await anna.request("GET", "/messages/not-a-uuid")
