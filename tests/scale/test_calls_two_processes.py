"""Calls across two server processes on one PostgreSQL and one Redis: the devices of a
member may sit on different processes, races are decided by the database, and a call
whose process died still stops ringing (the survivor's sweep)."""

from __future__ import annotations

import asyncio

from harness import ServerGroup
from inner_circle.sdk import InnerCircleClient
from tests.calls.support import CallSocket, call_socket, initiate, rest
from tests.conftest import StartProcess
from tests.scale.conftest import Cluster
from tests.support import PASSWORD

CANDIDATE = {"candidate": "candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host", "sdpMid": "0"}


async def _member(cluster: ServerGroup, url: str, name: str) -> InnerCircleClient:
    client = InnerCircleClient(url)
    await client.register(name, PASSWORD, cluster.invite())
    await client.login(name, PASSWORD)
    return client


async def _device(url: str, member: InnerCircleClient) -> CallSocket:
    """Another sign-in of ``member`` with its ``/calls`` socket on the server at ``url``."""
    device = InnerCircleClient(url)
    assert member.user is not None
    await device.login(member.user.username, PASSWORD)
    sock = await call_socket(url, device)
    await device.close()
    return sock


async def test_a_call_rings_and_is_answered_across_processes(cluster: Cluster) -> None:
    a, b = cluster.servers
    anna = await _member(cluster, a.url, "anna")
    ben = await _member(cluster, a.url, "ben")
    socks: list[CallSocket] = []
    try:
        anna_sock = await call_socket(a.url, anna)
        phone = await _device(a.url, ben)  # on A
        laptop = await _device(b.url, ben)  # on B
        socks += [anna_sock, phone, laptop]

        call = await initiate(a.url, anna, ben, "video")
        for device in (phone, laptop):
            assert (await device.inbox.wait_for("incoming_call"))["callId"] == call["id"]
        assert (await laptop.call("accept_call", {"callId": call["id"]}))["ok"]
        await anna_sock.inbox.wait_for("call_accepted")
        assert (await phone.inbox.wait_for("call_answered_elsewhere"))["callId"] == call["id"]

        # The caller on A reaches the answering device on B only.
        assert (
            await anna_sock.call("ice_candidate", {"callId": call["id"], "candidate": CANDIDATE})
        )["ok"]
        await laptop.inbox.wait_for("ice_candidate")
        assert (
            await laptop.call(
                "sdp_answer", {"callId": call["id"], "sdp": {"sdp": "v=0\r\n", "type": "answer"}}
            )
        )["ok"]
        await anna_sock.inbox.wait_for("sdp_answer")
        assert phone.inbox.all("ice_candidate") == []

        assert (await laptop.call("end_call", {"callId": call["id"]}))["ok"]
        ended = await anna_sock.inbox.wait_for("call_ended")
        assert ended["status"] == "ended"
    finally:
        for sock in socks:
            await sock.close()
        await anna.close()
        await ben.close()


async def test_devices_on_two_processes_accepting_at_once_one_wins(cluster: Cluster) -> None:
    a, b = cluster.servers
    anna = await _member(cluster, a.url, "anna")
    ben = await _member(cluster, b.url, "ben")
    socks: list[CallSocket] = []
    try:
        devices = [await _device(url, ben) for url in (a.url, b.url, a.url, b.url)]
        socks += devices
        for _ in range(3):
            call = await initiate(a.url, anna, ben)
            acks = await asyncio.gather(
                *(d.call("accept_call", {"callId": call["id"]}) for d in devices)
            )
            assert sum(1 for ack in acks if ack["ok"]) == 1, acks
            assert (await rest(b.url, "POST", f"/calls/{call['id']}/end", anna)).status_code == 200
    finally:
        for sock in socks:
            await sock.close()
        await anna.close()
        await ben.close()


async def test_a_call_whose_process_died_is_ended_by_the_survivor(
    start_process: StartProcess,
) -> None:
    cluster = start_process(
        database="postgres",
        redis=True,
        processes=2,
        env={
            "INNER_CIRCLE_CALL_RING_SECONDS": "2",
            "INNER_CIRCLE_CALL_SWEEP_SECONDS": "0.2",
            "INNER_CIRCLE_LOG_LEVEL": "WARNING",
        },
    )
    a, b = cluster.servers
    anna = await _member(cluster, a.url, "anna")
    ben = await _member(cluster, b.url, "ben")
    socks: list[CallSocket] = []
    try:
        ben_sock = await call_socket(b.url, ben)
        socks.append(ben_sock)
        call = await initiate(a.url, anna, ben)
        await ben_sock.inbox.wait_for("incoming_call")
        cluster.kill(0)  # the process that rang the call is gone
        ended = await ben_sock.inbox.wait_for("call_ended", timeout=20)
        assert ended == {"callId": call["id"], "status": "missed", "reason": "timeout"}
        final = (await rest(b.url, "GET", f"/calls/{call['id']}", ben)).json()
        assert final["status"] == "missed"
        assert (await rest(b.url, "GET", "/calls/active", ben)).json() == []
    finally:
        for sock in socks:
            await sock.close()
        await anna.close()
        await ben.close()
