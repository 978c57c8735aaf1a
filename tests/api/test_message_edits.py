"""Editing and deleting messages: only one's own (admins may delete any); everyone hears of it."""

from __future__ import annotations

import pytest

from inner_circle.sdk import BadRequest, NotFoundError, PermissionDenied
from tests.support import Family


async def test_sender_edits_and_everyone_sees_it(family: Family) -> None:
    anna = await family.member("anna", connect=True)
    boris = await family.member("boris", connect=True)
    chat = await anna.family_chat()
    cursor = (await boris.sync()).cursor
    sent = await anna.send_message(chat.id, "see you at 5")
    edited = await anna.edit_message(chat.id, sent.id, "see you at 6")
    assert edited.content == "see you at 6" and edited.edited_at is not None
    assert edited.seq == sent.seq
    event = await boris.inbox.wait_for("messageUpdated")
    assert event["id"] == str(sent.id) and event["content"] == "see you at 6"
    assert (await boris.history(chat.id))[0].content == "see you at 6"
    events, _ = await boris.sync_all(cursor)
    assert [(e.type, e.message.content if e.message else None) for e in events] == [
        ("message", "see you at 6"),
        ("messageUpdated", "see you at 6"),
    ]


async def test_delete_keeps_the_place_and_erases_the_text(family: Family) -> None:
    anna = await family.member("anna")
    chat = await anna.family_chat()
    first = await anna.post_message(chat.id, "oops, wrong chat")
    await anna.post_message(chat.id, "second")
    deleted = await anna.delete_message(chat.id, first.id)
    assert deleted.deleted_at is not None and deleted.content == ""
    history = await anna.history(chat.id)
    assert [(m.seq, m.content) for m in history] == [(1, ""), (2, "second")]
    again = await anna.delete_message(chat.id, first.id)  # idempotent
    assert again.deleted_at == deleted.deleted_at
    with pytest.raises(BadRequest):
        await anna.edit_message(chat.id, first.id, "undo")


async def test_only_the_sender_edits_and_admins_may_delete(family: Family) -> None:
    admin = await family.member("gran", admin=True)
    anna = await family.member("anna")
    boris = await family.member("boris")
    chat = await anna.family_chat()
    sent = await anna.post_message(chat.id, "mine")
    with pytest.raises(PermissionDenied):
        await boris.edit_message(chat.id, sent.id, "hijacked")
    with pytest.raises(PermissionDenied):
        await boris.delete_message(chat.id, sent.id)
    with pytest.raises(PermissionDenied):
        await admin.edit_message(chat.id, sent.id, "admin edit")
    assert (await admin.delete_message(chat.id, sent.id)).deleted_at is not None


async def test_edits_are_validated_and_scoped_to_the_chat(family: Family) -> None:
    anna = await family.member("anna")
    boris = await family.member("boris")
    eve = await family.member("eve")
    chat = await anna.family_chat()
    group = await anna.create_group("Two", [boris.user_id])
    sent = await anna.post_message(group.id, "group only")
    with pytest.raises(BadRequest):
        await anna.edit_message(group.id, sent.id, "   ")
    with pytest.raises(BadRequest):
        await anna.edit_message(group.id, sent.id, "x" * 4001)
    with pytest.raises(NotFoundError):
        await anna.edit_message(chat.id, sent.id, "wrong chat")  # the message is not in it
    with pytest.raises(NotFoundError):
        await eve.delete_message(group.id, sent.id)
    assert (await anna.history(group.id))[0].content == "group only"


async def test_edit_and_delete_over_the_socket(family: Family) -> None:
    anna = await family.member("anna", connect=True)
    chat = await anna.family_chat()
    sent = await anna.send_message(chat.id, "typo")
    ack = await anna.call(
        "editMessage", {"chatId": str(chat.id), "messageId": str(sent.id), "content": "fixed"}
    )
    assert ack["message"]["content"] == "fixed" and ack["message"]["editedAt"]
    ack = await anna.call("deleteMessage", {"chatId": str(chat.id), "messageId": str(sent.id)})
    assert ack["message"]["deletedAt"]
    with pytest.raises(BadRequest):
        await anna.call(
            "editMessage", {"chatId": str(chat.id), "messageId": "nope", "content": "x"}
        )
