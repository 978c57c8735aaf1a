"""What a member added to a group later reads of its earlier messages: a per-group choice,
the whole history by default (as families expect), or only what is sent after joining.
The choice holds on every read path: REST and socket history, the chat's last message,
sync (fresh start and from an old cursor), and later edits of earlier messages."""

from __future__ import annotations

import pytest

from tests.support import Family


@pytest.mark.parametrize("see_history", [None, True, False], ids=["default", "full", "joined"])
async def test_newcomer_reads_what_the_group_allows(
    family: Family, see_history: bool | None
) -> None:
    anna = await family.member("anna")
    ben = await family.member("ben")
    carl = await family.member("carl", connect=True)
    full = see_history is not False
    group = await anna.create_group("Dacha", [ben.user_id], new_members_see_history=see_history)
    assert group.new_members_see_history is full
    cursor = (await carl.sync()).cursor  # carl's devices last synced before these were sent
    first = await anna.post_message(group.id, "before 1")
    await ben.post_message(group.id, "before 2")

    await anna.add_members(group.id, [carl.user_id])
    view = next(c for c in await carl.chats() if c.id == group.id)
    assert view.new_members_see_history is full
    assert view.unread_count == 0  # either way, earlier messages count as read
    assert (view.last_message.content if view.last_message else None) == (
        "before 2" if full else None
    )
    await anna.post_message(group.id, "after 1")

    earlier = ["before 1", "before 2"] if full else []
    expected = [*earlier, "after 1"]
    assert [m.content for m in await carl.history(group.id)] == expected
    assert [m.content for m in await carl.history(group.id, before=3)] == earlier
    assert [m.content for m in await carl.get_messages(group.id)] == expected
    assert [m.content for m in await carl.get_messages(group.id, after=0)] == expected
    fresh = await carl.sync()
    assert fresh.messages is not None
    assert [m.content for m in fresh.messages if m.chat_id == group.id] == expected
    missed, cursor = await carl.sync_all(cursor)
    assert [e.message.content for e in missed if e.type == "message" and e.message] == expected
    # Members who were there from the start are not affected.
    assert [m.content for m in await ben.history(group.id)] == ["before 1", "before 2", "after 1"]

    # An edit of an earlier message reaches carl only if he may read that message.
    await anna.edit_message(group.id, first.id, "before 1 (edited)")
    await anna.post_message(group.id, "after 2")
    await carl.inbox.wait_for("messageReceived", lambda m: m["content"] == "after 2")
    updates = [m["content"] for m in carl.inbox.all("messageUpdated")]
    assert updates == (["before 1 (edited)"] if full else [])
    missed, _ = await carl.sync_all(cursor)
    assert [e.message.content for e in missed if e.message] == [
        *(["before 1 (edited)"] if full else []),
        "after 2",
    ]
