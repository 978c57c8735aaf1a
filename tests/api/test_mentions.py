"""Mentions: @username or @display name of a chat member; a badge until read."""

from __future__ import annotations

from tests.support import Family


async def test_mentions_are_resolved_and_counted_until_read(family: Family) -> None:
    anna = await family.member("anna")
    boris = await family.member("boris")
    carl = await family.member("carl")
    await carl.update_profile("Carl Jr")
    chat = await anna.family_chat()
    self_mention = await boris.post_message(chat.id, "@boris talking to myself")
    assert self_mention.mentions == []
    one = await anna.post_message(chat.id, "@boris and @Carl Jr, dinner?")
    assert set(one.mentions) == {boris.user_id, carl.user_id}
    two = await anna.post_message(chat.id, "@borisov is not boris; mail me@anna")
    assert two.mentions == []
    await anna.post_message(chat.id, "@BORIS again")
    view = {c.id: c for c in await boris.chats()}[chat.id]
    assert view.unread_mentions == 2
    assert {c.id: c for c in await anna.chats()}[chat.id].unread_mentions == 0
    await boris.mark_read_rest(chat.id, one.seq)
    assert {c.id: c for c in await boris.chats()}[chat.id].unread_mentions == 1
    assert {c.id: c for c in await carl.chats()}[chat.id].unread_mentions == 1
    await anna.delete_message(chat.id, one.id)
    assert {c.id: c for c in await carl.chats()}[chat.id].unread_mentions == 0
    assert (await boris.history(chat.id))[3].mentions == [boris.user_id]


async def test_only_members_of_the_chat_are_mentioned(family: Family) -> None:
    anna = await family.member("anna", connect=True)
    boris = await family.member("boris", connect=True)
    await family.member("carl")
    private = await anna.private_chat(boris.user_id)
    sent = await anna.send_message(private.id, "@carl is not here, @boris is")
    assert sent.mentions == [boris.user_id]
    live = await boris.inbox.wait_for("messageReceived")
    assert live["mentions"] == [str(boris.user_id)]
    chat_update = {c.id: c for c in await boris.chats()}[private.id]
    assert chat_update.unread_mentions == 1


async def test_each_member_is_told_their_own_mention_count(family: Family) -> None:
    """Members who have read as far get one shared ``chatUpdated``; a member with a mention
    among the unread messages is not one of them."""
    anna = await family.member("anna", connect=True)
    boris = await family.member("boris", connect=True)
    carl = await family.member("carl", connect=True)
    group = await anna.create_group("Dacha", [boris.user_id, carl.user_id])
    await anna.post_message(group.id, "@boris bring the keys")
    await anna.rename_chat(group.id, "Dacha 2027")

    def renamed(payload: dict[str, object]) -> bool:
        return payload["id"] == str(group.id) and payload["name"] == "Dacha 2027"

    told_boris = await boris.inbox.wait_for("chatUpdated", renamed)
    told_carl = await carl.inbox.wait_for("chatUpdated", renamed)
    assert (told_boris["unreadCount"], told_carl["unreadCount"]) == (1, 1)
    assert (told_boris["unreadMentions"], told_carl["unreadMentions"]) == (1, 0)
