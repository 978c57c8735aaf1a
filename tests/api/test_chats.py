"""The family chat, private chats and groups over REST."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from inner_circle.sdk import BadRequest, NotFoundError
from tests.support import Family


async def test_everyone_is_in_the_family_chat(family: Family) -> None:
    anna = await family.member("anna")
    boris = await family.member("boris")
    chats = await boris.chats()
    assert [c.type for c in chats] == ["family"]
    assert set(chats[0].participant_ids) == {anna.user_id, boris.user_id}
    assert chats[0].name == "Family"


async def test_private_chat_is_create_or_get(family: Family) -> None:
    anna = await family.member(
        "anna",
    )
    boris = await family.member("boris")
    first = await anna.private_chat(boris.user_id)
    again = await boris.private_chat(anna.user_id)
    assert first.id == again.id
    assert first.type == "private"
    assert first.name == "boris"  # named after the other member, as each sees it
    assert again.name == "anna"


async def test_concurrent_private_chat_requests_make_one_chat(family: Family) -> None:
    anna = await family.member("anna")
    boris = await family.member("boris")
    results = await asyncio.gather(
        *[anna.private_chat(boris.user_id) for _ in range(3)],
        *[boris.private_chat(anna.user_id) for _ in range(3)],
    )
    assert len({chat.id for chat in results}) == 1
    assert len([c for c in await anna.chats() if c.type == "private"]) == 1


async def test_private_chat_with_self_or_nobody_is_refused(family: Family) -> None:
    anna = await family.member("anna")
    with pytest.raises(BadRequest):
        await anna.private_chat(anna.user_id)
    with pytest.raises(NotFoundError):
        await anna.private_chat(uuid.uuid4())


async def test_group_lifecycle(family: Family) -> None:
    anna = await family.member("anna")
    boris = await family.member("boris")
    clara = await family.member("clara")
    group = await anna.create_group("Weekend", [boris.user_id])
    assert group.type == "group"
    assert set(group.participant_ids) == {anna.user_id, boris.user_id}
    renamed = await boris.rename_chat(group.id, "Dacha weekend")
    assert renamed.name == "Dacha weekend"
    grown = await anna.add_members(group.id, [clara.user_id])
    assert clara.user_id in grown.participant_ids
    assert (await clara.chat(group.id)).name == "Dacha weekend"
    after_removal = await anna.remove_member(group.id, boris.user_id)
    assert after_removal is not None and boris.user_id not in after_removal.participant_ids
    with pytest.raises(NotFoundError):
        await boris.chat(group.id)
    assert await clara.remove_member(group.id, clara.user_id) is None  # leaving
    assert set((await anna.chat(group.id)).participant_ids) == {anna.user_id}


async def test_outsiders_cannot_see_or_touch_a_group(family: Family) -> None:
    anna = await family.member("anna")
    boris = await family.member("boris")
    eve = await family.member("eve")
    group = await anna.create_group("Secret", [boris.user_id])
    await anna.post_message(group.id, "surprise party for eve")
    for attempt in (
        eve.chat(group.id),
        eve.history(group.id),
        eve.post_message(group.id, "let me in"),
        eve.rename_chat(group.id, "hacked"),
        eve.add_members(group.id, [eve.user_id]),
        eve.mark_read_rest(group.id, 1),
    ):
        with pytest.raises(NotFoundError):
            await attempt
    assert group.id not in {c.id for c in await eve.chats()}
    assert [m.content for m in await anna.history(group.id)] == ["surprise party for eve"]


async def test_group_validation(family: Family) -> None:
    anna = await family.member("anna")
    with pytest.raises(BadRequest):
        await anna.create_group("", [])
    with pytest.raises(BadRequest):
        await anna.create_group("x" * 101, [])
    with pytest.raises(NotFoundError):
        await anna.create_group("Ghosts", [uuid.uuid4()])
    family_chat = await anna.family_chat()
    with pytest.raises(BadRequest):
        await anna.remove_member(family_chat.id, anna.user_id)
    assert [c.type for c in await anna.chats()] == ["family"]


async def test_my_chats_show_last_message_and_unread_most_recent_first(family: Family) -> None:
    anna = await family.member("anna")
    boris = await family.member("boris")
    private = await anna.private_chat(boris.user_id)
    family_chat = await anna.family_chat()
    await boris.post_message(family_chat.id, "one")
    await boris.post_message(private.id, "two")
    await boris.post_message(private.id, "three")
    chats = await anna.chats()
    assert [c.id for c in chats] == [private.id, family_chat.id]
    assert chats[0].last_message is not None and chats[0].last_message.content == "three"
    assert [c.unread_count for c in chats] == [2, 1]
    state = await anna.mark_read_rest(private.id, 2)
    assert state.unread_count == 0 and state.last_read_seq == 2
    assert (await boris.chats())[0].unread_count == 0  # my own messages are read
