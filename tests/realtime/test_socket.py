"""Socket.IO: the seed's events against a live server with real clients."""

from __future__ import annotations

import asyncio
import uuid

import pytest
import socketio

from inner_circle.sdk import BadRequest, InnerCircleClient, NotFoundError
from tests.support import Family


async def fence(
    sender: InnerCircleClient, chat_id: uuid.UUID, *watchers: InnerCircleClient
) -> None:
    """Send a marker message and wait until every watcher has it: all earlier events sent to
    them have arrived by then (one connection delivers in order)."""
    marker = await sender.send_message(chat_id, f"fence-{uuid.uuid4()}")
    for watcher in watchers:
        await watcher.inbox.wait_for("messageReceived", lambda m: m["id"] == str(marker.id))


async def test_connect_with_flutter_header_or_browser_auth(family: Family) -> None:
    anna = await family.member("anna")
    await anna.connect(use_header=True)
    boris = await family.member("boris")
    await boris.connect()
    chat = await anna.family_chat()
    sent = await anna.send_message(chat.id, "hello")
    got = await boris.inbox.wait_for("messageReceived")
    assert got["id"] == str(sent.id) and got["content"] == "hello"


@pytest.mark.parametrize("token", [None, "garbage", "Bearer x.y.z"])
async def test_bad_tokens_are_refused_at_connect(family: Family, token: str | None) -> None:
    client = socketio.AsyncClient(reconnection=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        await client.connect(
            family.url, auth={"token": token} if token else None, transports=["websocket"]
        )
    assert not client.connected


async def test_message_reaches_every_device_once_and_nobody_else(family: Family) -> None:
    anna = await family.member("anna", connect=True)
    boris = await family.member("boris", connect=True)
    boris_phone = await family.device(boris)
    eve = await family.member("eve", connect=True)
    group = await anna.create_group("No Eve", [boris.user_id])
    family_chat = await anna.family_chat()

    sent = await anna.send_message(group.id, "secret")
    for device in (anna, boris, boris_phone):
        await device.inbox.wait_for("messageReceived", lambda m: m["id"] == str(sent.id))
    await fence(anna, family_chat.id, anna, boris, boris_phone, eve)
    for device in (anna, boris, boris_phone):
        copies = [m for m in device.inbox.all("messageReceived") if m["id"] == str(sent.id)]
        assert len(copies) == 1
    assert all(m["chatId"] != str(group.id) for m in eve.inbox.all("messageReceived"))
    assert "passwordHash" not in str(boris.inbox.all("messageReceived"))


async def test_sender_gets_message_sent_and_ack_after_store(family: Family) -> None:
    anna = await family.member("anna", connect=True)
    anna_laptop = await family.device(anna)
    chat = await anna.family_chat()
    sent = await anna.send_message(chat.id, "stored?", client_message_id="cid-1")
    assert sent.client_message_id == "cid-1"
    echoed = await anna.inbox.wait_for("messageSent")
    assert echoed["id"] == str(sent.id)
    # the ack came after the commit: the message is already in history
    assert [m.id for m in await anna.history(chat.id)] == [sent.id]
    await anna_laptop.inbox.wait_for("messageReceived", lambda m: m["id"] == str(sent.id))
    await fence(anna, chat.id, anna_laptop)
    assert anna_laptop.inbox.all("messageSent") == []


async def test_socket_resend_with_same_client_id_is_not_delivered_twice(family: Family) -> None:
    anna = await family.member("anna", connect=True)
    boris = await family.member("boris", connect=True)
    chat = await anna.family_chat()
    first = await anna.send_message(chat.id, "once", client_message_id="retry-1")
    second = await anna.send_message(chat.id, "once", client_message_id="retry-1")
    assert first.id == second.id
    await fence(anna, chat.id, boris)
    assert [m["content"] for m in boris.inbox.all("messageReceived")].count("once") == 1


async def test_seed_style_get_chats_and_get_messages(family: Family) -> None:
    anna = await family.member("anna", connect=True)
    chat = await anna.family_chat()
    await anna.send_message(chat.id, "one")
    await anna.send_message(chat.id, "two")
    assert anna.sio is not None
    await anna.sio.emit("getChats")
    chats = await anna.inbox.wait_for("userChats")
    assert chats[0]["id"] == str(chat.id) and chats[0]["lastMessage"]["content"] == "two"
    await anna.sio.emit("getMessages", {"chatId": str(chat.id), "limit": 10, "offset": 0})
    messages = await anna.inbox.wait_for("chatMessages")
    assert [m["content"] for m in messages] == ["one", "two"]
    page = await anna.get_messages(chat.id, limit=1, before=2)
    assert [m.content for m in page] == ["one"]


async def test_create_chat_event_reaches_every_participant(family: Family) -> None:
    anna = await family.member("anna", connect=True)
    boris = await family.member("boris", connect=True)
    ack = await anna.call("createChat", {"name": "Trip", "participantIds": [str(boris.user_id)]})
    chat_id = ack["chat"]["id"]
    for member in (anna, boris):
        created = await member.inbox.wait_for("chatCreated", lambda c: c["id"] == chat_id)
        assert created["name"] == "Trip"


async def test_typing_goes_to_the_others_in_the_chat(family: Family) -> None:
    anna = await family.member("anna", connect=True)
    boris = await family.member("boris", connect=True)
    chat = await anna.family_chat()
    await anna.typing(chat.id, True)
    event = await boris.inbox.wait_for("userTyping")
    assert event == {
        "chatId": str(chat.id),
        "userId": str(anna.user_id),
        "username": "anna",
        "displayName": "anna",
        "isTyping": True,
    }
    await fence(boris, chat.id, anna)
    assert anna.inbox.all("userTyping") == []


async def test_presence_online_while_any_device_is_connected(family: Family) -> None:
    anna = await family.member("anna", connect=True)
    boris = await family.member("boris", connect=True)
    phone = await family.device(boris)
    assert {m.username: m.is_online for m in await anna.members()} == {"boris": True}
    await phone.disconnect()
    await boris.disconnect()
    offline = await anna.inbox.wait_for("presence", lambda p: not p["isOnline"])
    assert offline["userId"] == str(boris.user_id) and offline["lastSeenAt"]
    assert await anna.inbox.wait_for("userDisconnected") == str(boris.user_id)
    # one presence change for two devices: online once, offline once
    changes = [p for p in anna.inbox.all("presence") if p["userId"] == str(boris.user_id)]
    assert [p["isOnline"] for p in changes] == [True, False]
    member = (await anna.members())[0]
    assert member.is_online is False and member.last_seen_at is not None


async def test_read_and_delivered_markers(family: Family) -> None:
    anna = await family.member("anna", connect=True)
    boris = await family.member("boris", connect=True)
    boris_tablet = await family.device(boris)
    chat = await anna.family_chat()
    sent = await anna.send_message(chat.id, "did you see this?")
    await boris.mark_delivered(chat.id, sent.seq)
    delivered = await anna.inbox.wait_for("messagesDelivered")
    assert delivered == {"chatId": str(chat.id), "userId": str(boris.user_id), "seq": sent.seq}
    ack = await boris.mark_read(chat.id, sent.seq)
    assert ack["unreadCount"] == 0
    read = await anna.inbox.wait_for("messagesRead", lambda r: r["userId"] == str(boris.user_id))
    assert read["seq"] == sent.seq
    # the member's other device hears it too, so its badge clears
    await boris_tablet.inbox.wait_for("messagesRead", lambda r: r["userId"] == str(boris.user_id))
    states = {s.user_id: s for s in (await anna.chat(chat.id)).read_states}
    assert states[boris.user_id].last_read_seq == sent.seq
    # positions never move backwards; beyond the end is capped
    assert (await boris.mark_read(chat.id, 0))["lastReadSeq"] == sent.seq
    assert (await boris.mark_read(chat.id, 999))["lastReadSeq"] == sent.seq


@pytest.mark.parametrize(
    ("event", "payload"),
    [
        ("sendMessage", None),
        ("sendMessage", "just a string"),
        ("sendMessage", {"chatId": "nope", "content": "x"}),
        ("sendMessage", {"chatId": str(uuid.uuid4()), "content": ""}),
        ("sendMessage", {"chatId": str(uuid.uuid4()), "content": "x" * 4001}),
        ("getMessages", {"chatId": str(uuid.uuid4()), "limit": -1}),
        ("createChat", {"name": "", "participantIds": []}),
        ("createChat", {"name": "x", "participantIds": ["not-a-uuid"]}),
        ("typing", {"chatId": 5}),
        ("markRead", {"chatId": str(uuid.uuid4()), "seq": -3}),
    ],
)
async def test_bad_payloads_get_an_error_and_the_connection_stays(
    family: Family, event: str, payload: object
) -> None:
    anna = await family.member("anna", connect=True)
    boris = await family.member("boris", connect=True)
    with pytest.raises(BadRequest) as error:
        await anna.call(event, payload)
    assert error.value.code == "VALIDATION_FAILED"
    refusal = await anna.inbox.wait_for("error")
    assert refusal["event"] == event and refusal["code"] == "VALIDATION_FAILED"
    chat = await anna.family_chat()
    ok = await anna.send_message(chat.id, "still here")
    await boris.inbox.wait_for("messageReceived", lambda m: m["id"] == str(ok.id))
    assert len(await anna.history(chat.id)) == 1


async def test_non_participant_events_read_as_not_found(family: Family) -> None:
    anna = await family.member("anna", connect=True)
    boris = await family.member("boris", connect=True)
    eve = await family.member("eve", connect=True)
    group = await anna.create_group("Private", [boris.user_id])
    for attempt in (
        eve.send_message(group.id, "hi"),
        eve.get_messages(group.id),
        eve.typing(group.id),
        eve.mark_read(group.id, 1),
        eve.mark_delivered(group.id, 1),
    ):
        with pytest.raises(NotFoundError):
            await attempt
    assert await anna.history(group.id) == []


async def test_new_member_joining_is_seen_in_real_time(family: Family) -> None:
    anna = await family.member("anna", connect=True)
    boris = await family.member("boris", connect=True)
    joined = await anna.inbox.wait_for("userJoined")
    assert joined["username"] == "boris" and "passwordHash" not in joined
    update = await anna.inbox.wait_for("chatUpdated")
    assert set(update["participantIds"]) == {str(anna.user_id), str(boris.user_id)}


async def test_deactivation_disconnects_live_sockets(family: Family) -> None:
    admin = await family.member("boss", admin=True)
    anna = await family.member("anna", connect=True)
    assert anna.sio is not None
    gone = asyncio.Event()
    anna.sio.on("disconnect", lambda *_: gone.set())
    await admin.deactivate(anna.user_id)
    await asyncio.wait_for(gone.wait(), 10)
    with pytest.raises(socketio.exceptions.ConnectionError):
        await anna.connect()


async def test_unknown_events_and_extra_arguments_get_clear_answers(family: Family) -> None:
    anna = await family.member("anna", connect=True)
    with pytest.raises(BadRequest) as error:
        await anna.call("launchRockets", {"count": 3})
    assert "Unknown event" in error.value.message
    assert (await anna.inbox.wait_for("error"))["event"] == "launchRockets"
    chat = await anna.family_chat()
    assert anna.sio is not None
    ack = await anna.sio.call(
        "sendMessage", ({"chatId": str(chat.id), "content": "two args"}, "extra"), timeout=10
    )
    assert ack["ok"] is True and ack["message"]["content"] == "two args"
