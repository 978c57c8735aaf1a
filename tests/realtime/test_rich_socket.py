"""Rich messaging over Socket.IO: react, pinMessage, unpinMessage, forwardMessages, replies."""

from __future__ import annotations

import pytest

from inner_circle.protocol.events import ClientEvent
from inner_circle.sdk import BadRequest, NotFoundError, PermissionDenied
from tests.support import Family


async def test_react_over_the_socket_is_idempotent_and_live(family: Family) -> None:
    anna = await family.member("anna", connect=True)
    boris = await family.member("boris", connect=True)
    chat = await anna.family_chat()
    sent = await anna.send_message(chat.id, "good news")
    ref = {"chatId": str(chat.id), "messageId": str(sent.id)}
    ack = await boris.call(ClientEvent.REACT, {**ref, "emoji": "❤️"})
    assert ack["reactions"] == [{"emoji": "❤️", "count": 1, "userIds": [str(boris.user_id)]}]
    event = await anna.inbox.wait_for("reactionsUpdated")
    assert event["reactions"] == ack["reactions"]
    again = await boris.call(ClientEvent.REACT, {**ref, "emoji": "❤️"})
    assert again["reactions"] == ack["reactions"]
    off = await boris.call(ClientEvent.REACT, {**ref, "emoji": "❤️", "active": False})
    assert off["reactions"] == []
    await anna.inbox.wait_for("reactionsUpdated", lambda e: e["reactions"] == [])
    assert len(anna.inbox.all("reactionsUpdated")) == 2  # the repeat announced nothing
    with pytest.raises(BadRequest):
        await boris.call(ClientEvent.REACT, {**ref, "emoji": "nice"})


async def test_pin_and_unpin_over_the_socket(family: Family) -> None:
    gran = await family.member("gran", admin=True, connect=True)
    anna = await family.member("anna", connect=True)
    chat = await anna.family_chat()
    sent = await anna.send_message(chat.id, "meeting on Sunday")
    ref = {"chatId": str(chat.id), "messageId": str(sent.id)}
    with pytest.raises(PermissionDenied):
        await anna.call(ClientEvent.PIN_MESSAGE, ref)
    pinned = await gran.call(ClientEvent.PIN_MESSAGE, ref)
    assert pinned["message"]["pinnedAt"] is not None
    await anna.inbox.wait_for("messagePinned", lambda m: m["id"] == str(sent.id))
    unpinned = await gran.call(ClientEvent.UNPIN_MESSAGE, ref)
    assert unpinned["message"]["pinnedAt"] is None
    await anna.inbox.wait_for("messageUnpinned", lambda m: m["id"] == str(sent.id))


async def test_forward_and_reply_over_the_socket(family: Family) -> None:
    anna = await family.member("anna", connect=True)
    boris = await family.member("boris", connect=True)
    chat = await anna.family_chat()
    private = await anna.private_chat(boris.user_id)
    original = await boris.send_message(chat.id, "the wifi password is on the fridge")
    ack = await anna.call(
        ClientEvent.FORWARD_MESSAGES,
        {"messageIds": [str(original.id)], "toChatIds": [str(private.id)]},
    )
    (copy,) = ack["messages"]
    assert copy["forwardedFrom"]["messageId"] == str(original.id)
    assert copy["forwardedFrom"]["senderName"] == "boris"
    await boris.inbox.wait_for("messageReceived", lambda m: m["id"] == copy["id"])
    with pytest.raises(NotFoundError):  # the original is in another chat
        await boris.send_message(private.id, "thanks", reply_to=original.id)
    answer = await boris.send_message(chat.id, "you're welcome", reply_to=original.id)
    assert answer.reply_to is not None and answer.reply_to.sender_id == boris.user_id
