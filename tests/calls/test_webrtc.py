"""A real call: two aiortc peers signal through our server (real Socket.IO clients on
``/calls``: offer, answer, trickled ICE candidates) and carry audio and video both ways;
then the same with every packet relayed by a real coturn, using the TURN credentials
``GET /calls/webrtc-config`` hands out."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from inner_circle.sdk import InnerCircleClient
from tests.calls.conftest import Sockets
from tests.calls.support import initiate, rest
from tests.calls.webrtc import Peer, aiortc_or_skip, coturn, receive_candidates, send_candidates
from tests.support import Family

MEDIA_TIMEOUT = 60


async def _ice_servers(family: Family, member: InnerCircleClient) -> list[dict[str, Any]]:
    config = (await rest(family.url, "GET", "/calls/webrtc-config", member)).json()
    return [{k: v for k, v in server.items() if v is not None} for server in config["iceServers"]]


async def _call(family: Family, sockets: Sockets, *, relay_only: bool) -> tuple[Peer, Peer]:
    """anna calls ben (video); both peers' media flows once this returns."""
    aiortc = aiortc_or_skip()
    anna, ben = await family.member("anna"), await family.member("ben")
    anna_sock, ben_sock = await sockets(family, anna), await sockets(family, ben)
    caller = Peer.create(anna_sock, await _ice_servers(family, anna), relay_only)
    callee = Peer.create(ben_sock, await _ice_servers(family, ben), relay_only)

    call = (await initiate(family.url, anna, ben, "video"))["id"]
    await ben_sock.inbox.wait_for("incoming_call")
    assert (await ben_sock.call("accept_call", {"callId": call, "callerId": str(anna.user_id)}))[
        "ok"
    ]
    await anna_sock.inbox.wait_for("call_accepted")

    await caller.pc.setLocalDescription(await caller.pc.createOffer())
    offer, offered = await caller.local_description()
    assert offered, "the caller gathered no candidates"
    ack = await anna_sock.call(
        "sdp_offer", {"callId": call, "sdp": offer, "receiverId": str(ben.user_id)}
    )
    assert ack["ok"], ack
    await send_candidates(anna_sock, call, offered)

    relayed = await ben_sock.inbox.wait_for("sdp_offer")
    assert relayed["from"] == str(anna.user_id)
    await callee.pc.setRemoteDescription(aiortc.RTCSessionDescription(**relayed["sdp"]))
    await callee.pc.setLocalDescription(await callee.pc.createAnswer())
    answer, answered = await callee.local_description()
    ack = await ben_sock.call(
        "sdp_answer", {"callId": call, "sdp": answer, "callerId": str(anna.user_id)}
    )
    assert ack["ok"], ack
    await send_candidates(ben_sock, call, answered)
    await callee.add_candidates(await receive_candidates(ben_sock, call, len(offered)))

    answer_in = await anna_sock.inbox.wait_for("sdp_answer")
    await caller.pc.setRemoteDescription(aiortc.RTCSessionDescription(**answer_in["sdp"]))
    await caller.add_candidates(await receive_candidates(anna_sock, call, len(answered)))

    await asyncio.wait_for(
        asyncio.gather(caller.enough.wait(), callee.enough.wait()), MEDIA_TIMEOUT
    )
    return caller, callee


async def test_audio_and_video_flow_both_ways_through_our_signaling(
    start_server: Any, sockets: Sockets
) -> None:
    family = await start_server()
    caller, callee = await _call(family, sockets, relay_only=False)
    try:
        for peer in (caller, callee):
            assert peer.received["audio"] >= 25 and peer.received["video"] >= 10
            assert peer.pc.connectionState == "connected"
    finally:
        await caller.close()
        await callee.close()


async def test_media_is_relayed_by_coturn_with_the_servers_turn_credentials(
    start_server: Any, sockets: Sockets, tmp_path: Path
) -> None:
    aiortc_or_skip()
    with coturn(tmp_path / "coturn") as turn:
        family = await start_server(turn_urls=[turn.url], turn_secret=turn.secret)
        caller, callee = await _call(family, sockets, relay_only=True)
        try:
            for peer in (caller, callee):
                assert peer.local_types() == {"relay"}  # no host candidate was even gathered
                assert peer.selected_pair_types() == ("relay", "relay")
                assert peer.received["audio"] >= 25 and peer.received["video"] >= 10
        finally:
            await caller.close()
            await callee.close()


async def test_a_forged_turn_credential_gets_no_relay(tmp_path: Path) -> None:
    """The check is real: coturn refuses a credential not made with its secret."""
    aiortc = aiortc_or_skip()
    with coturn(tmp_path / "coturn") as turn:
        server = aiortc.RTCIceServer(
            urls=[turn.url], username="4102444800:someone", credential="Zm9yZ2Vk"
        )
        config = aiortc.RTCConfiguration(
            iceServers=[server], iceTransportPolicy=aiortc.RTCIceTransportPolicy.RELAY
        )
        pc = aiortc.RTCPeerConnection(configuration=config)
        pc.addTransceiver("audio")
        try:
            await pc.setLocalDescription(await pc.createOffer())
            assert "typ relay" not in pc.localDescription.sdp
        finally:
            await pc.close()
