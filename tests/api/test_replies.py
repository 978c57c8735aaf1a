"""Replies quote their original: its sender and one line, or that it was deleted."""

from __future__ import annotations

from pathlib import Path

import pytest

from inner_circle.sdk import NotFoundError
from tests.media.conftest import png, voice_ogg
from tests.support import Family


async def test_a_reply_quotes_the_sender_and_first_line(family: Family) -> None:
    anna = await family.member("anna", connect=True)
    boris = await family.member("boris", connect=True)
    chat = await anna.family_chat()
    original = await anna.post_message(chat.id, "\nBuy milk\nand bread")
    reply = await boris.send_message(chat.id, "on it", reply_to=original.id)
    assert reply.reply_to is not None
    assert reply.reply_to.id == original.id and reply.reply_to.sender_id == anna.user_id
    assert reply.reply_to.sender_name == "anna" and reply.reply_to.preview == "Buy milk"
    assert not reply.reply_to.deleted
    live = await anna.inbox.wait_for("messageReceived", lambda m: m["id"] == str(reply.id))
    assert live["replyTo"]["id"] == str(original.id) and live["replyTo"]["preview"] == "Buy milk"
    long = await anna.post_message(chat.id, "x" * 500)
    quoted = await boris.post_message(chat.id, "wow", reply_to=long.id)
    assert quoted.reply_to is not None and len(quoted.reply_to.preview) == 120


async def test_a_reply_to_a_photo_or_a_voice_message_quotes_what_it_is(
    family: Family, tmp_path: Path
) -> None:
    anna = await family.member("anna")
    boris = await family.member("boris", connect=True)
    chat = await anna.family_chat()
    photo = await anna.upload_file(png(), name="dacha.png")
    voice = await anna.upload_file(voice_ogg(tmp_path), name="voice.ogg", kind="voice")
    captioned = await anna.upload_file(png(), name="cake.png")
    quoted = {
        "📷 Photo": await anna.post_message(chat.id, attachment_ids=[photo.id]),
        "🎤 Voice message (0:01)": await anna.post_message(chat.id, attachment_ids=[voice.id]),
        "The cake!": await anna.post_message(
            chat.id, "The cake!\nwith cherries", attachment_ids=[captioned.id]
        ),
    }
    for preview, original in quoted.items():
        reply = await boris.post_message(chat.id, "nice", reply_to=original.id)
        assert reply.reply_to is not None and reply.reply_to.preview == preview
        live = await boris.inbox.wait_for(
            "messageReceived", lambda m, r=reply: m["id"] == str(r.id)
        )
        assert live["replyTo"]["preview"] == preview
    shown = [m.reply_to.preview for m in await boris.history(chat.id) if m.reply_to]
    assert shown == list(quoted)


async def test_a_deleted_original_shows_as_deleted(family: Family) -> None:
    anna = await family.member("anna")
    boris = await family.member("boris")
    chat = await anna.family_chat()
    original = await anna.post_message(chat.id, "secret plan")
    reply = await boris.post_message(chat.id, "great", reply_to=original.id)
    cursor = (await boris.sync()).cursor
    await anna.delete_message(chat.id, original.id)
    shown = {m.id: m for m in await boris.history(chat.id)}[reply.id]
    assert shown.reply_to is not None and shown.reply_to.deleted
    assert shown.reply_to.preview == "" and "secret" not in shown.model_dump_json()
    events, _ = await boris.sync_all(cursor)
    assert [e.type for e in events] == ["messageUpdated"]


async def test_replies_to_messages_one_cannot_see_are_refused(family: Family) -> None:
    anna = await family.member("anna")
    boris = await family.member("boris")
    carl = await family.member("carl")
    private = await anna.private_chat(boris.user_id)
    hidden = await anna.post_message(private.id, "between us")
    family_chat = await carl.family_chat()
    with pytest.raises(NotFoundError):
        await carl.post_message(family_chat.id, "what?", reply_to=hidden.id)
    with pytest.raises(NotFoundError):  # a message of another chat, even one of mine
        await anna.post_message(family_chat.id, "copy", reply_to=hidden.id)
    group = await anna.create_group("Late joiners", [boris.user_id], new_members_see_history=False)
    before = await anna.post_message(group.id, "before carl")
    await anna.add_members(group.id, [carl.user_id])
    with pytest.raises(NotFoundError):
        await carl.post_message(group.id, "re", reply_to=before.id)
    assert [m.content for m in await carl.history(family_chat.id)] == []


async def test_a_newcomer_does_not_read_a_quote_of_history_kept_from_them(family: Family) -> None:
    anna = await family.member("anna")
    boris = await family.member("boris")
    carl = await family.member("carl", connect=True)
    group = await anna.create_group("Old news", [boris.user_id], new_members_see_history=False)
    old = await anna.post_message(group.id, "the old secret")
    await anna.add_members(group.id, [carl.user_id])
    cursor = (await carl.sync()).cursor
    reply = await boris.post_message(group.id, "still true", reply_to=old.id)
    assert reply.reply_to is not None and reply.reply_to.preview == "the old secret"
    live = await carl.inbox.wait_for("messageReceived", lambda m: m["id"] == str(reply.id))
    assert live["replyTo"]["deleted"] is True and live["replyTo"]["preview"] == ""
    (shown,) = await carl.history(group.id)
    assert shown.reply_to is not None and shown.reply_to.deleted
    await boris.pin(group.id, reply.id)
    pinned = await carl.inbox.wait_for("messagePinned")
    assert "the old secret" not in str(pinned)
    events, _ = await carl.sync_all(cursor)
    assert events and all("the old secret" not in e.model_dump_json() for e in events)
    assert "the old secret" not in (await carl.pins(group.id))[0].model_dump_json()
    anna_view = {m.id: m for m in await anna.history(group.id)}[reply.id]
    assert anna_view.reply_to is not None and anna_view.reply_to.preview == "the old secret"
