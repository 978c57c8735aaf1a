"""The seed's Flutter app's calls (webrtc_service.dart, call_socket_client.dart, the
native call screen) against our server: every route and ``/calls`` event it uses, each
answer read as its Dart code reads it, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from tests.contract import dart
from tests.contract.app import App
from tests.contract.conftest import Join

OFFER = {"sdp": "v=0\r\no=- 46117 2 IN IP4 127.0.0.1\r\n", "type": "offer"}
ANSWER = {"sdp": "v=0\r\no=- 46118 2 IN IP4 127.0.0.1\r\n", "type": "answer"}
CANDIDATE = {
    "candidate": "candidate:842163049 1 udp 1677729535 127.0.0.1 54321 typ srflx",
    "sdpMid": "0",
    "sdpMLineIndex": 0,
}


async def _initiate(caller: App, callee: App, kind: str = "voice") -> dict[str, Any]:
    response = await caller.post("/calls/initiate", {"targetUserId": callee.user_id, "type": kind})
    assert response.status_code == 201, response.text
    call = response.json()
    dart.check_call(call)
    return dict(call)


async def test_a_voice_call_from_ring_to_hang_up(app_of: Join) -> None:
    anna, ben = await app_of("anna"), await app_of("ben")
    await anna.connect_calls()
    await ben.connect_calls()
    config = (await anna.get("/calls/webrtc-config")).json()
    assert isinstance(config["iceServers"], list)  # the app adopts the whole object

    call = await _initiate(anna, ben)
    assert call["type"] == "audio" and call["status"] == "ringing"
    incoming = await ben.call_inbox.wait_for("incoming_call")
    dart.check_incoming_call(incoming)
    assert incoming["callId"] == call["id"] and incoming["remoteUserId"] == anna.user_id
    assert incoming["callerName"] == "anna" and incoming["callType"] == "audio"
    assert (await anna.call_inbox.wait_for("call_initiated"))["callId"] == call["id"]

    # initiateCall: the offer goes out right after the call is created, before an answer.
    offer = {"callId": call["id"], "sdp": OFFER, "receiverId": ben.user_id}
    assert (await anna.emit_call("sdp_offer", offer))["ok"]
    ice = {"callId": call["id"], "candidate": CANDIDATE, "targetId": ben.user_id}
    assert (await anna.emit_call("ice_candidate", ice))["ok"]
    for kind in ("sdp_offer", "ice_candidate"):
        dart.check_signal(await ben.call_inbox.wait_for(kind), kind)

    accept = {"callId": call["id"], "callerId": anna.user_id}
    assert (await ben.emit_call("accept_call", accept))["ok"]
    accepted = await anna.call_inbox.wait_for("call_accepted")
    assert accepted == {"callId": call["id"], "receiverId": ben.user_id}
    answer = {"callId": call["id"], "sdp": ANSWER, "callerId": anna.user_id}
    assert (await ben.emit_call("sdp_answer", answer))["ok"]
    back = {"callId": call["id"], "candidate": CANDIDATE, "targetId": anna.user_id}
    assert (await ben.emit_call("ice_candidate", back))["ok"]
    relayed = await anna.call_inbox.wait_for("sdp_answer")
    dart.check_signal(relayed, "sdp_answer")
    assert relayed["sdp"] == ANSWER and relayed["from"] == ben.user_id
    dart.check_signal(await anna.call_inbox.wait_for("ice_candidate"), "ice_candidate")

    active = (await ben.get("/calls/active")).json()
    assert [c["id"] for c in active] == [call["id"]]
    for item in active:
        dart.check_call(item)

    hang_up = {"callId": call["id"], "remoteUserId": ben.user_id}
    assert (await anna.emit_call("end_call", hang_up))["ok"]
    assert (await ben.call_inbox.wait_for("call_ended"))["callId"] == call["id"]
    for app in (anna, ben):
        history = (await app.get("/calls/history", limit=20, offset=0)).json()
        assert [c["id"] for c in history] == [call["id"]]
        dart.check_call(history[0])
        assert history[0]["status"] == "ended" and history[0]["duration"] >= 0

    # The chat shows the call to the app as a message it can read.
    chats = (await anna.get("/chats")).json()
    private = next(c for c in chats if c["isPrivate"])
    dart.check_chat_item(private)
    assert private["lastMessage"]["content"].startswith("📞 Audio call, ")
    messages = (await anna.get(f"/messages/{private['id']}")).json()
    for message in messages:
        dart.check_message(message)


async def test_the_native_call_screen_resumes_accepts_and_ends_over_rest(app_of: Join) -> None:
    anna, ben = await app_of("anna"), await app_of("ben")
    await anna.connect_calls()  # ben's app is closed: only the push woke him
    call = await _initiate(anna, ben, "video")
    assert (await anna.emit_call("sdp_offer", {"callId": call["id"], "sdp": OFFER}))["ok"]
    assert (await anna.emit_call("ice_candidate", {"callId": call["id"], "candidate": CANDIDATE}))[
        "ok"
    ]

    resumed = (await ben.get(f"/calls/{call['id']}")).json()
    dart.check_call(resumed)
    assert resumed["sdpOffer"] == OFFER and resumed["callerIceCandidates"] == [CANDIDATE]
    response = await ben.post("/calls/respond", {"callId": call["id"], "action": "accept"})
    assert response.status_code in (200, 201), response.text
    dart.check_call(response.json())
    assert response.json()["status"] == "accepted"
    assert (await anna.call_inbox.wait_for("call_accepted"))["receiverId"] == ben.user_id

    ended = await ben.post(f"/calls/{call['id']}/end", {})
    assert ended.status_code in (200, 201)
    dart.check_call(ended.json())
    assert (await anna.call_inbox.wait_for("call_ended"))["callId"] == call["id"]
    removed = await ben.delete(f"/calls/{call['id']}")
    assert removed.status_code == 200 and isinstance(removed.json()["message"], str)


async def test_declining_from_the_app_and_from_the_lock_screen(app_of: Join) -> None:
    anna, ben = await app_of("anna"), await app_of("ben")
    await anna.connect_calls()
    await ben.connect_calls()
    first = await _initiate(anna, ben)
    await ben.call_inbox.wait_for("incoming_call")
    reject = {"callId": first["id"], "remoteUserId": anna.user_id}
    assert (await ben.emit_call("reject_call", reject))["ok"]
    declined = await anna.call_inbox.wait_for("call_rejected")
    assert declined["callId"] == first["id"]

    # The native decline button: no token at all, only the call id.
    second = await _initiate(anna, ben)
    del ben.http.headers["Authorization"]
    response = await ben.post("/calls/public/respond", {"callId": second["id"], "action": "reject"})
    assert response.status_code in (200, 201), response.text
    await anna.call_inbox.wait_for("call_rejected", lambda p: p["callId"] == second["id"])


async def test_the_callees_candidates_are_kept_while_the_caller_is_offline(app_of: Join) -> None:
    anna, ben = await app_of("anna"), await app_of("ben")
    await anna.connect_calls()
    await ben.connect_calls()
    call = await _initiate(anna, ben, "video")
    assert (await anna.emit_call("sdp_offer", {"callId": call["id"], "sdp": OFFER}))["ok"]
    await ben.call_inbox.wait_for("incoming_call")
    assert anna.calls is not None
    await anna.calls.disconnect()  # the caller's network drops while it rings

    ice = {"callId": call["id"], "candidate": CANDIDATE, "targetId": anna.user_id}
    assert (await ben.emit_call("ice_candidate", ice))["ok"]
    # The caller's app comes back and reads them from the call row.
    await anna.connect_calls()
    resumed = (await anna.get(f"/calls/{call['id']}")).json()
    dart.check_call(resumed)
    assert resumed["receiverIceCandidates"] == [CANDIDATE]
    assert resumed["callerIceCandidates"] == [] and resumed["status"] == "ringing"
    assert anna.call_inbox.all("ice_candidate") == []

    assert (await ben.emit_call("accept_call", {"callId": call["id"]}))["ok"]
    assert (await anna.call_inbox.wait_for("call_accepted"))["callId"] == call["id"]
    assert (await anna.emit_call("end_call", {"callId": call["id"]}))["ok"]
    ended = (await ben.get(f"/calls/{call['id']}")).json()
    assert ended["status"] == "ended" and ended["receiverIceCandidates"] == []
