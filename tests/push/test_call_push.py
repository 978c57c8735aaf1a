"""Call notifications through the real push path: a member with no visible device gets
``{type: "call"}`` (Urgency high, TTL = the ring time, Topic = the call) and then
``{type: "call-ended"}``; mutes do not silence calls (docs/calls.md "Push")."""

from __future__ import annotations

import uuid

from inner_circle.server.push.dispatch import chat_topic
from tests.calls.support import initiate, rest
from tests.push.conftest import PushReceiver, StartPush, subscribe


async def test_a_call_rings_on_a_hidden_device_even_in_a_muted_chat(
    push_family: StartPush, receiver: PushReceiver
) -> None:
    family = await push_family()
    anna = await family.member("anna")
    ben = await family.member("ben")  # no connection at all
    sub = receiver.new()
    await subscribe(ben, sub)
    chat = await ben.private_chat(anna.user_id)
    muted = await ben.request("PUT", f"/chats/{chat.id}/mute", json={"duration": "forever"})
    assert muted.status_code == 200

    call = await initiate(family.url, anna, ben, "video")
    [ring] = await receiver.wait_for(sub.name)
    assert ring.payload == {
        "type": "call",
        "callId": call["id"],
        "callType": "video",
        "callerId": str(anna.user_id),
        "callerName": "anna",
        "chatId": None,
        "expiresAt": ring.payload["expiresAt"],
    }
    assert ring.payload["expiresAt"].startswith(call["ringUntil"][:19])
    assert ring.headers["Urgency"] == "high"
    assert int(ring.headers["TTL"]) == 45
    assert ring.headers["Topic"] == chat_topic(uuid.UUID(call["id"]))

    assert (await rest(family.url, "POST", f"/calls/{call['id']}/end", anna)).status_code == 200
    pushes = await receiver.wait_for(sub.name, 2)
    assert pushes[1].payload == {"type": "call-ended", "callId": call["id"], "status": "missed"}
    assert pushes[1].headers["Topic"] == ring.headers["Topic"]
    # The missed-call entry is a message in the muted chat: no push for it (it was planned
    # before the call-ended push, with the one sender in commit order).
    assert len(receiver.received[sub.name]) == 2


async def test_a_visible_device_gets_no_call_push(
    push_family: StartPush, receiver: PushReceiver
) -> None:
    family = await push_family()
    anna = await family.member("anna")
    ben = await family.member("ben", connect=True)  # the app is open: it rings in the app
    carol = await family.member("carol")  # offline: her push marks ben's as planned
    bens, carols = receiver.new(), receiver.new()
    await subscribe(ben, bens)
    await subscribe(carol, carols)
    first = await initiate(family.url, anna, ben)
    await rest(family.url, "POST", f"/calls/{first['id']}/end", anna)
    second = await initiate(family.url, anna, carol)

    [ring] = await receiver.wait_for(carols.name)
    assert ring.payload["callId"] == second["id"]
    # One planner and one sender, in commit order: ben's would have arrived first.
    assert receiver.received[bens.name] == []
