"""Forwards: copies in other chats marked with their first origin."""

from __future__ import annotations

import pytest

from inner_circle.sdk import BadRequest, NotFoundError
from tests.media.conftest import png
from tests.support import Family


async def test_forward_several_messages_to_several_chats(family: Family) -> None:
    anna = await family.member("anna", connect=True)
    boris = await family.member("boris", connect=True)
    carl = await family.member("carl")
    family_chat = await anna.family_chat()
    one = await boris.post_message(family_chat.id, "address: Elm st 5")
    two = await anna.post_message(family_chat.id, "door code 42")
    with_boris = await anna.private_chat(boris.user_id)
    with_carl = await anna.private_chat(carl.user_id)
    sent = await anna.forward([one.id, two.id], [with_boris.id, with_carl.id])
    assert [(m.chat_id, m.content) for m in sent] == [
        (with_boris.id, "address: Elm st 5"),
        (with_boris.id, "door code 42"),
        (with_carl.id, "address: Elm st 5"),
        (with_carl.id, "door code 42"),
    ]
    assert all(m.sender_id == anna.user_id for m in sent)
    origin = sent[0].forwarded_from
    assert origin is not None
    assert (origin.message_id, origin.chat_id, origin.sender_id, origin.sender_name) == (
        one.id, family_chat.id, boris.user_id, "boris",
    )  # fmt: skip
    live = await boris.inbox.wait_for(
        "messageReceived", lambda m: m["chatId"] == str(with_boris.id)
    )
    assert live["forwardedFrom"]["senderId"] == str(boris.user_id)
    onward = await carl.forward([sent[2].id], [(await carl.family_chat()).id])
    assert onward[0].forwarded_from is not None
    assert onward[0].forwarded_from.message_id == one.id  # the first origin, not the copy
    assert [m.content for m in await carl.history(with_carl.id)] == [
        "address: Elm st 5",
        "door code 42",
    ]


async def test_forwards_need_access_to_both_ends(family: Family) -> None:
    anna = await family.member("anna")
    boris = await family.member("boris")
    carl = await family.member("carl")
    private = await anna.private_chat(boris.user_id)
    secret = await anna.post_message(private.id, "between us")
    carl_family = await carl.family_chat()
    with pytest.raises(NotFoundError):
        await carl.forward([secret.id], [carl_family.id])
    mine = await carl.post_message(carl_family.id, "hello all")
    with pytest.raises(NotFoundError):
        await carl.forward([mine.id], [private.id])
    gone = await anna.post_message(private.id, "oops")
    await anna.delete_message(private.id, gone.id)
    with pytest.raises(BadRequest):
        await anna.forward([secret.id, gone.id], [carl_family.id])
    assert [m.content for m in await anna.history(carl_family.id)] == ["hello all"]
    with pytest.raises(BadRequest):
        await anna.forward([secret.id, secret.id], [carl_family.id])


async def test_a_forward_carries_the_files_and_outlives_the_original(family: Family) -> None:
    anna = await family.member("anna")
    boris = await family.member("boris")
    carl = await family.member("carl")
    family_chat = await anna.family_chat()
    photo = await anna.upload_file(png(), name="snow.png")
    paper = await anna.upload_file(b"%PDF-1.4 the recipe", name="recipe.pdf")
    original = await anna.post_message(family_chat.id, "", attachment_ids=[photo.id, paper.id])
    with_carl = await boris.private_chat(carl.user_id)

    (copy,) = await boris.forward([original.id], [with_carl.id])
    assert [(a.kind, a.name) for a in copy.attachments] == [
        ("image", "snow.png"),
        ("file", "recipe.pdf"),
    ]
    assert {a.id for a in copy.attachments}.isdisjoint({photo.id, paper.id})
    assert copy.caption == ""
    assert copy.content == original.content  # the same text fallback for the seed's app
    # The original goes; the forwarded files stay (their bytes are shared, not lost).
    await anna.delete_message(family_chat.id, original.id)
    (shown,) = await carl.history(with_carl.id)
    fresh = await carl.attachment(shown.attachments[1].id)
    answer = await carl.download(fresh.url)
    assert (answer.status_code, answer.content) == (200, b"%PDF-1.4 the recipe")
    with pytest.raises(NotFoundError):  # the original's own attachments went with it
        await anna.attachment(photo.id)
