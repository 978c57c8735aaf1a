"""The 1:1 call state machine through a live server: REST and real ``/calls`` sockets,
on SQLite and PostgreSQL (docs/calls.md)."""

from __future__ import annotations

import asyncio
from typing import Any

from inner_circle.sdk import InnerCircleClient
from tests.calls.conftest import Sockets
from tests.calls.support import CallSocket, initiate, rest
from tests.support import Family

OFFER = {"sdp": "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\n", "type": "offer"}
ANSWER = {"sdp": "v=0\r\no=- 2 2 IN IP4 127.0.0.1\r\n", "type": "answer"}
CANDIDATE = {
    "candidate": "candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host",
    "sdpMid": "0",
    "sdpMLineIndex": 0,
}


async def _pair(family: Family) -> tuple[InnerCircleClient, InnerCircleClient]:
    return await family.member("anna"), await family.member("ben")


async def _swept(
    start_server: Any, sockets: Sockets, **limits: float
) -> tuple[Family, InnerCircleClient, InnerCircleClient, CallSocket, CallSocket]:
    """A server whose sweep runs every 0.1 s with ``limits``; anna and ben on ``/calls``."""
    # Sockets on /calls alone outlive the timeout for connections that join no namespace.
    family = await start_server(
        call_sweep_seconds=0.1, socket_connect_timeout_seconds=0.3, **limits
    )
    anna, ben = await _pair(family)
    return family, anna, ben, await sockets(family, anna), await sockets(family, ben)


async def _entries(member: InnerCircleClient, other: InnerCircleClient) -> list[Any]:
    chat = await member.private_chat(other.user_id)
    page = await rest(member.base_url, "GET", f"/messages/{chat.id}", member)
    return [m for m in page.json() if m["kind"] == "call"]


async def test_a_call_rings_is_accepted_relays_signaling_and_ends_with_an_entry(
    family: Family, sockets: Sockets
) -> None:
    anna, ben = await _pair(family)
    anna_sock = await sockets(family, anna)
    ben_phone = await sockets(family, ben)
    ben_laptop = await sockets(family, ben)

    call = await initiate(family.url, anna, ben, "video")
    assert call["status"] == "ringing" and call["type"] == "video"
    assert call["receiverId"] == str(ben.user_id) and call["callerId"] == str(anna.user_id)
    for device in (ben_phone, ben_laptop):
        incoming = await device.inbox.wait_for("incoming_call")
        assert incoming["callId"] == call["id"]
        assert incoming["remoteUserId"] == str(anna.user_id)
        assert incoming["callerName"] == "anna" and incoming["callType"] == "video"
    assert (await anna_sock.inbox.wait_for("call_initiated"))["callId"] == call["id"]

    # While it rings, the offer and the caller's candidates are relayed and kept.
    assert (await anna_sock.call("sdp_offer", {"callId": call["id"], "sdp": OFFER}))["ok"]
    assert (await anna_sock.call("ice_candidate", {"callId": call["id"], "candidate": CANDIDATE}))[
        "ok"
    ]
    offer = await ben_laptop.inbox.wait_for("sdp_offer")
    assert offer == {"callId": call["id"], "sdp": OFFER, "from": str(anna.user_id)}
    stored = (await rest(family.url, "GET", f"/calls/{call['id']}", ben)).json()
    assert stored["sdpOffer"] == OFFER and stored["callerIceCandidates"] == [CANDIDATE]

    ack = await ben_laptop.call(
        "accept_call", {"callId": call["id"], "callerId": str(anna.user_id)}
    )
    assert ack["ok"] and ack["call"]["status"] == "accepted"
    accepted = await anna_sock.inbox.wait_for("call_accepted")
    assert accepted == {"callId": call["id"], "receiverId": str(ben.user_id)}
    assert (await ben_phone.inbox.wait_for("call_answered_elsewhere"))["callId"] == call["id"]
    stopped = await ben_phone.inbox.wait_for("call_ended")
    assert stopped["status"] == "accepted" and stopped["reason"] == "answered_elsewhere"

    # After the accept, the caller's signaling reaches the answering device only.
    assert (await ben_laptop.call("sdp_answer", {"callId": call["id"], "sdp": ANSWER}))["ok"]
    assert (await anna_sock.inbox.wait_for("sdp_answer"))["sdp"] == ANSWER
    marker = {**CANDIDATE, "candidate": CANDIDATE["candidate"] + " generation 7"}
    assert (await anna_sock.call("ice_candidate", {"callId": call["id"], "candidate": marker}))[
        "ok"
    ]
    await ben_laptop.inbox.wait_for("ice_candidate", lambda p: p["candidate"] == marker)
    assert all(p["candidate"] != marker for p in ben_phone.inbox.all("ice_candidate"))

    active = (await rest(family.url, "GET", "/calls/active", anna)).json()
    assert [c["id"] for c in active] == [call["id"]]

    ack = await anna_sock.call("end_call", {"callId": call["id"], "remoteUserId": str(ben.user_id)})
    assert ack["ok"] and ack["call"]["status"] == "ended"
    ended = await ben_laptop.inbox.wait_for("call_ended", lambda p: p["status"] == "ended")
    assert ended == {"callId": call["id"], "status": "ended", "reason": "hangup"}
    final = (await rest(family.url, "GET", f"/calls/{call['id']}", anna)).json()
    assert final["endedAt"] and final["sdpOffer"] is None and final["callerIceCandidates"] == []
    assert final["durationMs"] >= 0 and final["duration"] == final["durationMs"] // 1000

    for member, other in ((anna, ben), (ben, anna)):
        (entry,) = await _entries(member, other)
        assert entry["call"]["id"] == call["id"] and entry["call"]["status"] == "ended"
        assert entry["call"]["type"] == "video" and entry["call"]["callerId"] == str(anna.user_id)
        assert entry["content"].startswith("📹 Video call, ")
        assert entry["senderId"] == str(anna.user_id)
    assert (await rest(family.url, "GET", "/calls/active", anna)).json() == []
    history = (await rest(family.url, "GET", "/calls/history", ben)).json()
    assert [c["id"] for c in history] == [call["id"]]


async def test_a_reconnecting_answerer_gets_the_signaling_again(
    family: Family, sockets: Sockets
) -> None:
    """The device that answered loses its socket (a network change) and connects again:
    the caller's ICE restart reaches the new connection, not the closed one."""
    anna, ben = await _pair(family)
    anna_sock = await sockets(family, anna)
    ben_old = await sockets(family, ben)
    call = await initiate(family.url, anna, ben, "audio")
    await ben_old.inbox.wait_for("incoming_call")
    assert (await ben_old.call("accept_call", {"callId": call["id"]}))["ok"]
    await anna_sock.inbox.wait_for("call_accepted")

    await ben_old.close()
    ben_new = await sockets(family, ben)
    # The server may learn of the old connection's end before or after the new one opens;
    # either way the restart offer must reach the new one. Each try waits for delivery.
    for attempt in range(20):
        restart = {"sdp": f"v=0\r\no=- 3 {attempt} IN IP4 127.0.0.1\r\n", "type": "offer"}
        ack = await anna_sock.call("sdp_offer", {"callId": call["id"], "sdp": restart})
        assert ack["ok"]
        try:
            got = await ben_new.inbox.wait_for(
                "sdp_offer", lambda p, r=restart: p["sdp"] == r, timeout=0.5
            )
            break
        except TimeoutError:
            continue
    else:
        raise AssertionError("the reconnected device never got the caller's offer")
    assert got["from"] == str(anna.user_id)
    assert (await rest(family.url, "GET", f"/calls/{call['id']}", ben)).json()["status"] == (
        "accepted"
    )


async def test_declining_tells_the_caller_and_writes_a_declined_entry(
    family: Family, sockets: Sockets
) -> None:
    anna, ben = await _pair(family)
    anna_sock, ben_sock = await sockets(family, anna), await sockets(family, ben)
    call = await initiate(family.url, anna, ben)
    await ben_sock.inbox.wait_for("incoming_call")
    ack = await ben_sock.call(
        "reject_call", {"callId": call["id"], "remoteUserId": str(anna.user_id)}
    )
    assert ack["ok"] and ack["call"]["status"] == "rejected"
    assert await anna_sock.inbox.wait_for("call_rejected") == {
        "callId": call["id"],
        "reason": "declined",
    }
    (entry,) = await _entries(anna, ben)
    assert entry["call"]["status"] == "rejected" and entry["content"] == "📞 Declined audio call"
    again = await ben_sock.call("accept_call", {"callId": call["id"]})
    assert again["error"]["code"] == "CALL_ENDED"


async def test_the_caller_cancelling_is_a_missed_call(family: Family, sockets: Sockets) -> None:
    anna, ben = await _pair(family)
    ben_sock = await sockets(family, ben)
    call = await initiate(family.url, anna, ben)
    response = await rest(family.url, "POST", f"/calls/{call['id']}/end", anna)
    assert response.status_code == 200 and response.json()["status"] == "missed"
    assert response.json()["endReason"] == "cancelled"
    ended = await ben_sock.inbox.wait_for("call_ended")
    assert ended == {"callId": call["id"], "status": "missed", "reason": "cancelled"}
    (entry,) = await _entries(ben, anna)
    assert entry["content"] == "📞 Missed audio call"
    again = await rest(family.url, "POST", f"/calls/{call['id']}/end", anna)
    assert again.status_code == 409 and again.json()["code"] == "CALL_ENDED"


async def test_a_member_on_a_call_is_busy(family: Family, sockets: Sockets) -> None:
    anna, ben = await _pair(family)
    carl = await family.member("carl")
    carl_sock = await sockets(family, carl)
    first = await initiate(family.url, anna, ben)
    busy = await initiate(family.url, carl, ben)
    assert busy["status"] == "busy" and busy["endReason"] == "busy"
    assert (await carl_sock.inbox.wait_for("call_rejected")) == {
        "callId": busy["id"],
        "reason": "busy",
    }
    mine = await rest(
        family.url, "POST", "/calls/initiate", anna, json={"targetUserId": str(carl.user_id)}
    )
    assert mine.status_code == 409 and mine.json()["code"] == "CALL_BUSY"
    # Once the first call is over, ben can be called again.
    await rest(family.url, "POST", f"/calls/{first['id']}/end", anna)
    assert (await initiate(family.url, carl, ben))["status"] == "ringing"


async def test_two_callers_at_once_one_rings_and_the_other_is_busy(
    family: Family, sockets: Sockets
) -> None:
    anna, ben = await _pair(family)
    carl, dave = await family.member("carl"), await family.member("dave")
    ben_sock = await sockets(family, ben)
    for _ in range(3):
        calls = await asyncio.gather(
            initiate(family.url, carl, ben), initiate(family.url, dave, ben)
        )
        assert sorted(c["status"] for c in calls) == ["busy", "ringing"], calls
        ringing = next(c for c in calls if c["status"] == "ringing")
        busy = next(c for c in calls if c["status"] == "busy")
        assert busy["endReason"] == "busy"
        await ben_sock.inbox.wait_for("incoming_call", lambda p, i=ringing["id"]: p["callId"] == i)
        assert busy["id"] not in {p["callId"] for p in ben_sock.inbox.all("incoming_call")}
        active = (await rest(family.url, "GET", "/calls/active", ben)).json()
        assert [c["id"] for c in active] == [ringing["id"]]
        caller = carl if ringing["callerId"] == str(carl.user_id) else dave
        await rest(family.url, "POST", f"/calls/{ringing['id']}/end", caller)

    # On an accepted call, both ends are busy for anyone else.
    call = await initiate(family.url, anna, ben)
    assert (await ben_sock.call("accept_call", {"callId": call["id"]}))["ok"]
    assert (await initiate(family.url, carl, ben))["status"] == "busy"
    assert (await initiate(family.url, dave, anna))["status"] == "busy"
    await rest(family.url, "POST", f"/calls/{call['id']}/end", ben)
    assert (await initiate(family.url, carl, ben))["status"] == "ringing"


async def test_an_unanswered_call_is_missed_by_the_sweep(
    start_server: Any, sockets: Sockets
) -> None:
    family, anna, ben, anna_sock, ben_sock = await _swept(
        start_server, sockets, call_ring_seconds=1.0
    )
    call = await initiate(family.url, anna, ben)
    for sock in (anna_sock, ben_sock):
        ended = await sock.inbox.wait_for("call_ended")
        assert ended == {"callId": call["id"], "status": "missed", "reason": "timeout"}
    (entry,) = await _entries(anna, ben)
    assert entry["call"]["status"] == "missed" and entry["call"]["endReason"] == "timeout"


async def test_an_accepted_call_past_its_longest_fails_for_both(
    start_server: Any, sockets: Sockets
) -> None:
    family, anna, ben, anna_sock, ben_sock = await _swept(
        start_server, sockets, call_max_seconds=1.0
    )
    call = await initiate(family.url, anna, ben, "video")
    await ben_sock.inbox.wait_for("incoming_call")
    assert (await ben_sock.call("accept_call", {"callId": call["id"]}))["ok"]
    for sock in (anna_sock, ben_sock):
        ended = await sock.inbox.wait_for("call_ended")
        assert ended == {"callId": call["id"], "status": "failed", "reason": "failed"}
    final = (await rest(family.url, "GET", f"/calls/{call['id']}", anna)).json()
    assert final["status"] == "failed" and final["durationMs"] >= 1000
    for member, other in ((anna, ben), (ben, anna)):
        assert (await rest(family.url, "GET", "/calls/active", member)).json() == []
        (entry,) = await _entries(member, other)
        assert entry["call"]["id"] == call["id"] and entry["call"]["status"] == "failed"
        assert entry["content"].startswith("📹 Video call, 0:0")
    # Both lines are free again: ben can call anna.
    assert (await initiate(family.url, ben, anna))["status"] == "ringing"


async def test_the_public_decline_acts_only_on_a_ringing_call(
    family: Family, sockets: Sockets
) -> None:
    anna, ben = await _pair(family)
    anna_sock = await sockets(family, anna)
    call = await initiate(family.url, anna, ben)
    unknown = await rest(
        family.url,
        "POST",
        "/calls/public/respond",
        json={"callId": str(ben.user_id), "action": "reject"},
    )
    assert unknown.status_code == 404
    accept = await rest(
        family.url, "POST", "/calls/public/respond", json={"callId": call["id"], "action": "accept"}
    )
    assert accept.status_code == 400
    ok = await rest(
        family.url, "POST", "/calls/public/respond", json={"callId": call["id"], "action": "reject"}
    )
    assert ok.status_code == 200 and ok.json() == {"ok": True}
    assert (await anna_sock.inbox.wait_for("call_rejected"))["reason"] == "declined"
    again = await rest(
        family.url, "POST", "/calls/public/respond", json={"callId": call["id"], "action": "reject"}
    )
    assert again.status_code == 404


async def test_two_devices_accepting_at_once_exactly_one_wins(
    family: Family, sockets: Sockets
) -> None:
    anna, ben = await _pair(family)
    devices = [await sockets(family, ben) for _ in range(4)]
    for _ in range(3):
        call = await initiate(family.url, anna, ben)
        acks = await asyncio.gather(
            *(d.call("accept_call", {"callId": call["id"]}) for d in devices)
        )
        winners = [a for a in acks if a["ok"]]
        assert len(winners) == 1, acks
        assert {a["error"]["code"] for a in acks if not a["ok"]} == {"CALL_NOT_RINGING"}
        await rest(family.url, "POST", f"/calls/{call['id']}/end", anna)


async def test_hanging_up_while_the_callee_accepts_ends_the_call_for_both(
    family: Family, sockets: Sockets
) -> None:
    anna, ben = await _pair(family)
    anna_sock, ben_sock = await sockets(family, anna), await sockets(family, ben)
    for _ in range(3):
        call = await initiate(family.url, anna, ben)
        accepted, hung_up = await asyncio.gather(
            ben_sock.call("accept_call", {"callId": call["id"]}),
            anna_sock.call("end_call", {"callId": call["id"]}),
        )
        assert hung_up["ok"], hung_up  # a hang-up is never lost
        final = (await rest(family.url, "GET", f"/calls/{call['id']}", anna)).json()
        if accepted["ok"]:
            assert final["status"] == "ended"
        else:
            assert accepted["error"]["code"] in ("CALL_NOT_RINGING", "CALL_ENDED")
            assert final["status"] == "missed"
        await ben_sock.inbox.wait_for(
            "call_ended",
            lambda p, cid=call["id"], status=final["status"]: (
                p["callId"] == cid and p["status"] == status
            ),
        )
        assert (await rest(family.url, "GET", "/calls/active", ben)).json() == []


async def test_outsiders_cannot_see_or_touch_a_call(family: Family, sockets: Sockets) -> None:
    anna, ben = await _pair(family)
    carl = await family.member("carl")
    carl_sock = await sockets(family, carl)
    call = await initiate(family.url, anna, ben)
    assert (await rest(family.url, "GET", f"/calls/{call['id']}", carl)).status_code == 404
    for event, extra in (
        ("accept_call", {}),
        ("reject_call", {}),
        ("end_call", {}),
        ("sdp_offer", {"sdp": OFFER}),
        ("ice_candidate", {"candidate": CANDIDATE}),
    ):
        ack = await carl_sock.call(event, {"callId": call["id"], **extra})
        assert ack["error"]["code"] == "NOT_FOUND", event
    assert (await rest(family.url, "GET", f"/calls/{call['id']}", ben)).json()[
        "status"
    ] == "ringing"


async def test_removing_a_call_from_my_history_keeps_theirs(family: Family) -> None:
    anna, ben = await _pair(family)
    call = await initiate(family.url, anna, ben)
    removed = await rest(family.url, "DELETE", f"/calls/{call['id']}", anna)
    assert removed.status_code == 200
    assert (await rest(family.url, "GET", "/calls/history", anna)).json() == []
    (theirs,) = (await rest(family.url, "GET", "/calls/history", ben)).json()
    assert theirs["id"] == call["id"] and theirs["status"] == "missed"


async def test_starting_calls_and_public_declines_are_rate_limited(start_server: Any) -> None:
    family = await start_server(
        limit_call_burst=2,
        limit_calls_per_minute=0.001,
        limit_public_respond_burst=2,
        limit_public_respond_per_minute=0.001,
    )
    anna, ben = await _pair(family)
    for _ in range(2):
        call = await initiate(family.url, anna, ben)
        await rest(family.url, "POST", f"/calls/{call['id']}/end", anna)
    third = await rest(
        family.url, "POST", "/calls/initiate", anna, json={"targetUserId": str(ben.user_id)}
    )
    assert third.status_code == 429 and third.json()["code"] == "RATE_LIMITED"
    guesses = [
        await rest(family.url, "POST", "/calls/public/respond", json={"callId": str(ben.user_id)})
        for _ in range(3)
    ]
    assert [g.status_code for g in guesses] == [404, 404, 429]


async def test_logging_out_closes_the_calls_socket_too(family: Family, sockets: Sockets) -> None:
    ben = await family.member("ben")
    ben_sock = await sockets(family, ben)
    await ben.logout()
    error = await ben_sock.inbox.wait_for("error")
    assert error["event"] == "session" and error["code"] == "TOKEN_INVALID"
    await ben_sock.inbox.wait_for("disconnect")
    assert not ben_sock.sio.connected
