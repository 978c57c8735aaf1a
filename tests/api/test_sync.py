"""Catch-up sync: one cursor, everything missed, in order, in pages."""

from __future__ import annotations

import re

import pytest

from inner_circle.sdk import BadRequest
from tests.support import Family


async def test_fresh_start_gives_chats_recent_history_and_a_cursor(family: Family) -> None:
    anna = await family.member("anna")
    chat = await anna.family_chat()
    for i in range(40):
        await anna.post_message(chat.id, f"m{i}")
    fresh = await anna.sync()
    assert fresh.chats is not None and [c.id for c in fresh.chats] == [chat.id]
    assert fresh.messages is not None
    assert [m.seq for m in fresh.messages] == list(range(11, 41))  # the recent ones, in order
    assert re.fullmatch(r"[0-9a-f]{8}:[1-9][0-9]*", fresh.cursor) and fresh.events == []
    nothing_new = await anna.sync(fresh.cursor)
    assert nothing_new.events == [] and nothing_new.cursor == fresh.cursor


async def test_everything_missed_comes_in_order(family: Family) -> None:
    anna = await family.member("anna")
    boris = await family.member("boris")
    clara = await family.member("clara")
    cursor = (await anna.sync()).cursor
    family_chat = await anna.family_chat()
    await clara.post_message(family_chat.id, "while you were away")
    group = await boris.create_group("Dacha", [anna.user_id])
    await boris.post_message(group.id, "in the new group")
    await boris.rename_chat(group.id, "Dacha 2026")
    await boris.mark_read_rest(family_chat.id, 1)
    await boris.update_profile("Boris the Builder")
    events, new_cursor = await anna.sync_all(cursor)
    kinds = [(e.type, e.message.content if e.message else None) for e in events]
    assert kinds == [
        ("message", "while you were away"),
        ("message", "in the new group"),
        ("chat", None),
        ("read", None),
        ("user", None),
    ]
    chat_event = next(e for e in events if e.type == "chat")
    assert chat_event.chat is not None and chat_event.chat.name == "Dacha 2026"  # current state
    read = next(e for e in events if e.type == "read")
    assert (read.chat_id, read.user_id, read.seq) == (family_chat.id, boris.user_id, 1)
    user = next(e for e in events if e.type == "user")
    assert user.user is not None and user.user.display_name == "Boris the Builder"
    assert [e.id for e in events] == sorted(e.id for e in events)
    assert (await anna.sync(new_cursor)).events == []


async def test_pages_have_no_gap_and_no_duplicate(family: Family) -> None:
    anna = await family.member("anna")
    boris = await family.member("boris")
    cursor = (await anna.sync()).cursor
    chat = await boris.family_chat()
    for i in range(57):
        await boris.post_message(chat.id, f"n{i}")
    seen: list[int] = []
    pages = 0
    while True:
        page = await anna.sync(cursor, limit=10)
        pages += 1
        seen.extend(e.message.seq for e in page.events if e.message)
        cursor = page.cursor
        if not page.has_more:
            break
    assert pages == 6
    assert seen == list(range(1, 58))


async def test_outsiders_see_nothing_of_a_private_group(family: Family) -> None:
    anna = await family.member("anna")
    boris = await family.member("boris")
    eve = await family.member("eve")
    cursor = (await eve.sync()).cursor
    group = await anna.create_group("No Eve", [boris.user_id])
    await anna.post_message(group.id, "secret")
    await boris.mark_read_rest(group.id, 1)
    events, _ = await eve.sync_all(cursor)
    assert events == []


async def test_removed_member_hears_of_the_removal_and_nothing_after(family: Family) -> None:
    anna = await family.member("anna")
    boris = await family.member("boris")
    group = await anna.create_group("Short-lived", [boris.user_id])
    cursor = (await boris.sync()).cursor
    await anna.remove_member(group.id, boris.user_id)
    await anna.post_message(group.id, "after boris left")
    events, _ = await boris.sync_all(cursor)
    assert [(e.type, e.chat_id) for e in events] == [("chatRemoved", group.id)]


async def test_unknown_cursor_asks_for_a_fresh_start(family: Family) -> None:
    anna = await family.member("anna")
    result = await anna.sync(10**9)
    assert result.reset is True and result.chats is not None


async def test_sync_over_the_socket_matches_rest(family: Family) -> None:
    anna = await family.member("anna", connect=True)
    cursor = (await anna.sync()).cursor
    chat = await anna.family_chat()
    await anna.post_message(chat.id, "hello")
    ack = await anna.call("sync", {"since": cursor})
    rest = await anna.sync(cursor)
    assert ack["cursor"] == rest.cursor
    assert [e["message"]["content"] for e in ack["events"]] == ["hello"]
    with pytest.raises(BadRequest):
        await anna.call("sync", {"since": -1})


@pytest.mark.parametrize("params", [{"since": -1}, {"limit": 0}, {"limit": 5000}, {"since": "x"}])
async def test_bad_sync_queries(family: Family, params: dict[str, object]) -> None:
    anna = await family.member("anna")
    with pytest.raises(BadRequest):
        await anna.request("GET", "/sync", params=params)
