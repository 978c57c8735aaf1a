"""Reading a chat on one device clears the notifications it left on the others (ADR 17).

As in test_web_push.py, "not sent" is checked by a later push that must arrive first on
the same subscription: one sender (``push_workers=1``), one planner in commit order, and
one device's pushes leave in the order they were queued.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from inner_circle.server.push.dispatch import chat_topic
from tests.push.conftest import FakeFcm, PushReceiver, StartPush, fcm_settings, subscribe


def kinds(receiver: PushReceiver, name: str) -> list[str]:
    return [p.payload["type"] for p in receiver.received[name]]


async def test_read_push_goes_once_to_the_other_devices_that_were_notified(
    push_family: StartPush, receiver: PushReceiver
) -> None:
    family = await push_family()
    alice = await family.member("alice", connect=True)
    bob_phone = await family.member("bob")
    bob_laptop = await family.device(bob_phone, connect=False)
    bob_tablet = await family.device(bob_phone, connect=False)
    phone, laptop, tablet = receiver.new("phone"), receiver.new("laptop"), receiver.new("tablet")
    await subscribe(bob_phone, phone)
    await subscribe(bob_laptop, laptop)
    chat = await alice.private_chat(bob_phone.user_id)
    other = await alice.family_chat()
    await alice.send_message(chat.id, "one")
    await alice.send_message(chat.id, "two")
    await receiver.wait_for(laptop.name, 2)
    await subscribe(bob_tablet, tablet)  # subscribed after: shows nothing of the chat

    # Read part of the way: the laptop's notification still says what is unread.
    await bob_phone.mark_read_rest(chat.id, 1)
    await bob_phone.mark_read_rest(chat.id, 2)
    await bob_phone.mark_read_rest(chat.id, 2)  # again: the position does not move
    await alice.send_message(other.id, "marker")  # must arrive after any read push

    await receiver.wait_for(laptop.name, 4)
    await receiver.wait_for(phone.name, 3)
    await receiver.wait_for(tablet.name, 1)
    assert kinds(receiver, laptop.name) == ["message", "message", "read", "message"]
    read = receiver.received[laptop.name][2]
    assert read.payload == {
        "type": "read",
        "chatId": str(chat.id),
        "unreadTotal": 0,  # planned before the marker was sent
        "tag": chat_topic(chat.id),
        "mustShow": False,
    }
    assert read.headers["Urgency"] == "low"
    assert read.headers["Topic"] == chat_topic(chat.id)  # replaces an undelivered message push
    assert kinds(receiver, phone.name) == ["message", "message", "message"]  # the reader
    assert kinds(receiver, tablet.name) == ["message"]  # nothing was shown there
    assert receiver.received[laptop.name][3].payload["unreadTotal"] == 1


async def test_read_on_the_socket_counts_and_skips_the_reading_session(
    push_family: StartPush, receiver: PushReceiver
) -> None:
    family = await push_family()
    alice = await family.member("alice", connect=True)
    bob = await family.member("bob")
    bob_laptop = await family.device(bob, connect=False)
    mine, laptop = receiver.new(), receiver.new()
    await subscribe(bob, mine)
    await subscribe(bob_laptop, laptop)
    chat = await alice.private_chat(bob.user_id)
    await alice.send_message(chat.id, "are you there?")
    await receiver.wait_for(laptop.name)
    await receiver.wait_for(mine.name)
    await bob.connect()  # the seed app's way: markAsRead {chatId}
    await bob.call("markAsRead", {"chatId": str(chat.id)})

    [_, read] = await receiver.wait_for(laptop.name, 2)
    assert read.payload["type"] == "read" and read.payload["unreadTotal"] == 0
    assert kinds(receiver, mine.name) == ["message"]


async def test_apple_endpoint_gets_a_read_push_only_with_something_to_show(
    push_family: StartPush, receiver: PushReceiver
) -> None:
    async def push_services(host: str, port: int) -> Sequence[str]:
        return ["127.0.0.1"]  # every push service of this test is the local receiver

    family = await push_family(resolver=push_services)
    alice = await family.member("alice", connect=True)
    carol = await family.member("carol", connect=True)
    bob = await family.member("bob", connect=True)  # reads here: connected, visible
    iphone = await family.device(bob, connect=False)
    apple = receiver.new("iphone", host="web.push.apple.com")
    await subscribe(iphone, apple)
    first = await alice.private_chat(bob.user_id)
    second = await carol.private_chat(bob.user_id)
    await alice.send_message(first.id, "from alice")
    await carol.send_message(second.id, "from carol")
    await receiver.wait_for(apple.name, 2)

    # Another chat's notification still shows there: the read push may go.
    await bob.call("markAsRead", {"chatId": str(first.id)})
    [*_, read] = await receiver.wait_for(apple.name, 3)
    assert read.payload["type"] == "read" and read.payload["mustShow"] is True
    assert read.payload["unreadTotal"] == 1
    assert read.headers["Host"].startswith("web.push.apple.com")

    # The last one, with nothing unread left: WebKit would count a strike, so none.
    await bob.call("markAsRead", {"chatId": str(second.id)})
    await alice.send_message(first.id, "marker")
    pushes = await receiver.wait_for(apple.name, 4)
    assert [p.payload["type"] for p in pushes] == ["message", "message", "read", "message"]
    assert pushes[3].payload["body"] == "marker"

    # Nothing else showing there but something unread (a muted chat): a read push,
    # which the service worker answers with a quiet summary.
    await bob.request("PUT", f"/chats/{second.id}/mute", json={"duration": "8h"})
    await carol.send_message(second.id, "muted, still unread")
    await bob.call("markAsRead", {"chatId": str(first.id)})
    [*_, summary] = await receiver.wait_for(apple.name, 5)
    assert summary.payload["type"] == "read" and summary.payload["mustShow"] is True
    assert summary.payload["unreadTotal"] == 1


async def test_fcm_gets_a_data_only_read_message(
    push_family: StartPush, fake_fcm: FakeFcm, fcm_account_file: Path
) -> None:
    family = await push_family(**fcm_settings(fake_fcm, fcm_account_file))
    alice = await family.member("alice", connect=True)
    bob = await family.member("bob", connect=True)
    phone = await family.device(bob, connect=False)
    await phone.save_fcm_token("bob-phone-token")
    chat = await alice.private_chat(bob.user_id)
    await alice.send_message(chat.id, "ping")
    await fake_fcm.wait_for(1)
    await bob.call("markAsRead", {"chatId": str(chat.id)})

    _, read = await fake_fcm.wait_for(2)
    assert read["token"] == "bob-phone-token"
    assert "notification" not in read  # data only: the app decides what to close
    assert read["data"]["type"] == "read"
    assert read["data"]["chatId"] == str(chat.id)
    assert read["data"]["unreadTotal"] == "0"
    assert read["android"]["priority"] == "NORMAL"
    assert read["apns"]["payload"]["aps"] == {"content-available": 1, "badge": 0}
