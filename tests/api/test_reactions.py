"""Reactions: one emoji per member per message, idempotent, live and in sync, no unread."""

from __future__ import annotations

import pytest

from inner_circle.sdk import BadRequest, NotFoundError
from tests.support import Family


async def test_reactions_are_counted_per_member_and_idempotent(family: Family) -> None:
    anna = await family.member("anna")
    boris = await family.member("boris")
    chat = await anna.family_chat()
    sent = await anna.post_message(chat.id, "dinner at 7")
    await anna.react(chat.id, sent.id, "👍")
    again = await anna.react(chat.id, sent.id, "👍")  # a repeat changes nothing
    assert [(r.emoji, r.count) for r in again.reactions] == [("👍", 1)]
    both = await boris.react(chat.id, sent.id, "👍")
    await boris.react(chat.id, sent.id, "❤️")
    assert [(r.emoji, r.count) for r in both.reactions] == [("👍", 2)]
    shown = (await anna.history(chat.id))[-1]
    assert [(r.emoji, r.count, set(r.user_ids)) for r in shown.reactions] == [
        ("👍", 2, {anna.user_id, boris.user_id}),
        ("❤️", 1, {boris.user_id}),
    ]
    taken = await boris.unreact(chat.id, sent.id, "👍")
    assert [(r.emoji, r.user_ids) for r in taken.reactions] == [
        ("👍", [anna.user_id]),
        ("❤️", [boris.user_id]),
    ]
    assert (await boris.unreact(chat.id, sent.id, "👍")).reactions == taken.reactions


async def test_reactions_are_live_and_do_not_raise_unread(family: Family) -> None:
    anna = await family.member("anna", connect=True)
    boris = await family.member("boris", connect=True)
    chat = await anna.family_chat()
    sent = await anna.post_message(chat.id, "photo of the cake")
    await boris.mark_read_rest(chat.id, sent.seq)
    await anna.mark_read_rest(chat.id, sent.seq)
    before = {c.id: c for c in await anna.chats()}[chat.id]
    anna.inbox.clear()
    await boris.react(chat.id, sent.id, "😂")
    event = await anna.inbox.wait_for("reactionsUpdated")
    assert event["messageId"] == str(sent.id)
    assert event["reactions"] == [{"emoji": "😂", "count": 1, "userIds": [str(boris.user_id)]}]
    after = {c.id: c for c in await anna.chats()}[chat.id]
    assert after.unread_count == 0 and after.updated_at == before.updated_at
    assert after.last_seq == before.last_seq
    assert not anna.inbox.all("messageReceived")
    assert not anna.inbox.all("chatUpdated")


async def test_reactions_reach_an_offline_member_through_sync(family: Family) -> None:
    anna = await family.member("anna")
    boris = await family.member("boris")
    chat = await anna.family_chat()
    sent = await anna.post_message(chat.id, "who is coming?")
    cursor = (await anna.sync()).cursor
    await boris.react(chat.id, sent.id, "🙏")
    await boris.react(chat.id, sent.id, "😮")
    await boris.unreact(chat.id, sent.id, "🙏")
    events, _ = await anna.sync_all(cursor)
    assert [e.type for e in events] == ["reactionsUpdated"] * 3
    final = events[-1].message
    assert final is not None and final.id == sent.id
    assert [(r.emoji, r.count) for r in final.reactions] == [("😮", 1)]


@pytest.mark.parametrize("emoji", ["hello", "👍👍", "a", " ", "👍 ", "<b>"])
async def test_only_a_single_emoji_is_accepted(family: Family, emoji: str) -> None:
    anna = await family.member("anna")
    chat = await anna.family_chat()
    sent = await anna.post_message(chat.id, "hi")
    with pytest.raises(BadRequest):
        await anna.react(chat.id, sent.id, emoji)
    assert (await anna.history(chat.id))[-1].reactions == []


async def test_outsiders_and_deleted_messages(family: Family) -> None:
    anna = await family.member("anna")
    boris = await family.member("boris")
    carl = await family.member("carl")
    private = await anna.private_chat(boris.user_id)
    sent = await anna.post_message(private.id, "between us")
    with pytest.raises(NotFoundError):
        await carl.react(private.id, sent.id, "👍")
    family_chat = await anna.family_chat()
    with pytest.raises(NotFoundError):  # the message is not in that chat
        await carl.react(family_chat.id, sent.id, "👍")
    await boris.react(private.id, sent.id, "👍")
    await anna.delete_message(private.id, sent.id)
    with pytest.raises(BadRequest):
        await boris.react(private.id, sent.id, "❤️")
    assert (await anna.history(private.id))[-1].reactions == []
