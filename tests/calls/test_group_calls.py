"""Group calls (a mesh of at most four) in a group chat: join, pairwise signaling with
``targetId``, leave (also by closing the connection), capacity, and the chat entry."""

from __future__ import annotations

from inner_circle.sdk import InnerCircleClient
from tests.calls.conftest import Sockets
from tests.calls.support import rest
from tests.support import Family

OFFER = {"sdp": "v=0\r\n", "type": "offer"}
ANSWER = {"sdp": "v=0\r\n", "type": "answer"}


async def _group_call(family: Family, caller: InnerCircleClient, chat_id: object) -> dict:  # type: ignore[type-arg]
    response = await rest(
        family.url,
        "POST",
        "/calls/initiate",
        caller,
        json={"chatId": str(chat_id), "type": "video"},
    )
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


async def test_a_group_call_from_first_ring_to_last_leave(family: Family, sockets: Sockets) -> None:
    anna, ben, carl, dave, eve = [
        await family.member(n) for n in ("anna", "ben", "carl", "dave", "eve")
    ]
    chat = await anna.create_group("Cousins", [m.user_id for m in (ben, carl, dave, eve)])
    socks = {m.user.username: await sockets(family, m) for m in (anna, ben, carl, dave, eve)}  # type: ignore[union-attr]

    call = await _group_call(family, anna, chat.id)
    assert call["receiverId"] is None and call["chatId"] == str(chat.id)
    assert call["participants"] == [str(anna.user_id)] and call["status"] == "ringing"
    for name in ("ben", "carl", "dave", "eve"):
        incoming = await socks[name].inbox.wait_for("incoming_call")
        assert incoming["isGroup"] is True and incoming["chatId"] == str(chat.id)
    again = await rest(family.url, "POST", "/calls/initiate", ben, json={"chatId": str(chat.id)})
    assert again.status_code == 409 and again.json()["code"] == "CALL_BUSY"
    assert again.json()["details"] == [{"callId": call["id"]}]

    joined = await socks["ben"].call("join_group_call", {"callId": call["id"]})
    assert joined == {"ok": True, "participants": [str(anna.user_id)]}
    update = await socks["anna"].inbox.wait_for("group_call_participants")
    assert update["joined"] == str(ben.user_id)
    assert sorted(update["participants"]) == sorted([str(anna.user_id), str(ben.user_id)])
    assert (await rest(family.url, "GET", f"/calls/{call['id']}", anna)).json()[
        "status"
    ] == "accepted"

    # The joiner offers to each one already in; answers and candidates go back by targetId.
    offer = {"callId": call["id"], "sdp": OFFER, "targetId": str(anna.user_id)}
    assert (await socks["ben"].call("sdp_offer", offer))["ok"]
    assert (await socks["anna"].inbox.wait_for("sdp_offer"))["from"] == str(ben.user_id)
    answer = {"callId": call["id"], "sdp": ANSWER, "targetId": str(ben.user_id)}
    assert (await socks["anna"].call("sdp_answer", answer))["ok"]
    assert (await socks["ben"].inbox.wait_for("sdp_answer"))["from"] == str(anna.user_id)
    outside = {"callId": call["id"], "sdp": OFFER, "targetId": str(carl.user_id)}
    assert (await socks["ben"].call("sdp_offer", outside))["error"]["code"] == "NOT_FOUND"

    for name in ("carl", "dave"):
        assert (await socks[name].call("join_group_call", {"callId": call["id"]}))["ok"]
    full = await socks["eve"].call("join_group_call", {"callId": call["id"]})
    assert full["error"]["code"] == "CALL_BUSY"

    await socks["ben"].close()  # closing the connection leaves
    left = await socks["anna"].inbox.wait_for("group_call_participants", lambda p: p.get("left"))
    assert left["left"] == str(ben.user_id) and str(ben.user_id) not in left["participants"]
    for name in ("anna", "carl", "dave"):
        assert (await socks[name].call("leave_group_call", {"callId": call["id"]}))["ok"]
    ended = await socks["eve"].inbox.wait_for("call_ended")
    assert ended["callId"] == call["id"] and ended["status"] == "ended"

    page = (await rest(family.url, "GET", f"/messages/{chat.id}", eve)).json()
    (entry,) = [m for m in page if m["kind"] == "call"]
    assert entry["content"].startswith("📹 Group video call, ")
    assert entry["call"]["id"] == call["id"]


async def test_outsiders_cannot_start_or_join_a_group_call(
    family: Family, sockets: Sockets
) -> None:
    anna, ben, carl = [await family.member(n) for n in ("anna", "ben", "carl")]
    chat = await anna.create_group("Two of us", [ben.user_id])
    carl_sock = await sockets(family, carl)
    refused = await rest(family.url, "POST", "/calls/initiate", carl, json={"chatId": str(chat.id)})
    assert refused.status_code == 404
    call = await _group_call(family, anna, chat.id)
    ack = await carl_sock.call("join_group_call", {"callId": call["id"]})
    assert ack["error"]["code"] == "NOT_FOUND"
    assert carl_sock.inbox.all("incoming_call") == []
    private = await anna.private_chat(ben.user_id)
    wrong = await rest(
        family.url, "POST", "/calls/initiate", anna, json={"chatId": str(private.id)}
    )
    assert wrong.status_code == 400


async def test_a_group_call_in_the_family_chat(family: Family, sockets: Sockets) -> None:
    anna, ben, carl = [await family.member(n) for n in ("anna", "ben", "carl")]
    socks = [await sockets(family, m) for m in (anna, ben, carl)]
    chats = (await rest(family.url, "GET", "/chats", anna)).json()
    (home,) = [c for c in chats if c["type"] == "family"]
    call = await _group_call(family, anna, home["id"])
    assert call["chatId"] == home["id"] and call["receiverId"] is None
    for sock in socks[1:]:  # every member is in the family chat: everyone rings
        incoming = await sock.inbox.wait_for("incoming_call")
        assert incoming["isGroup"] is True and incoming["chatId"] == home["id"]
    assert (await socks[1].call("join_group_call", {"callId": call["id"]}))["ok"]
    update = await socks[0].inbox.wait_for("group_call_participants")
    assert update["joined"] == str(ben.user_id)
    for sock in socks[:2]:
        assert (await sock.call("leave_group_call", {"callId": call["id"]}))["ok"]
    assert (await socks[2].inbox.wait_for("call_ended"))["status"] == "ended"
    page = (await rest(family.url, "GET", f"/messages/{home['id']}", carl)).json()
    (entry,) = [m for m in page if m["kind"] == "call"]
    assert entry["call"]["id"] == call["id"] and entry["content"].startswith("📹 Group video call")
