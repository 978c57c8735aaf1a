"""Two real WebRTC peers (aiortc) whose offer, answer and ICE candidates travel through
our server's ``/calls`` namespace, as a browser's would; and a real coturn."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from tests.calls.support import CallSocket
from tests.support import free_ports, need_service

TURNSERVER = "/usr/bin/turnserver"


def aiortc_or_skip() -> Any:
    try:
        import aiortc
    except ImportError:  # a dev dependency; CI has it
        need_service("aiortc is not installed (pip install -e '.[dev]')")
    return aiortc


@dataclass
class Peer:
    """One side of the call: its peer connection, sending a silent audio track and a
    green video track, and counting the frames it receives per kind."""

    sock: CallSocket
    pc: Any
    received: dict[str, int] = field(default_factory=lambda: {"audio": 0, "video": 0})
    enough: asyncio.Event = field(default_factory=asyncio.Event)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    @classmethod
    def create(cls, sock: CallSocket, ice_servers: list[dict[str, Any]], relay_only: bool) -> Peer:
        aiortc = aiortc_or_skip()
        from aiortc.mediastreams import AudioStreamTrack, VideoStreamTrack

        servers = [aiortc.RTCIceServer(**server) for server in ice_servers]
        policy = (
            aiortc.RTCIceTransportPolicy.RELAY if relay_only else aiortc.RTCIceTransportPolicy.ALL
        )
        config = aiortc.RTCConfiguration(iceServers=servers, iceTransportPolicy=policy)
        peer = cls(sock, aiortc.RTCPeerConnection(configuration=config))
        peer.pc.addTrack(AudioStreamTrack())
        peer.pc.addTrack(VideoStreamTrack())
        peer.pc.on("track", peer._count)
        return peer

    def _count(self, track: Any) -> None:
        async def read() -> None:
            with contextlib.suppress(Exception):  # the track ends when the call closes
                while True:
                    await track.recv()
                    self.received[track.kind] += 1
                    if self.received["audio"] >= 25 and self.received["video"] >= 10:
                        self.enough.set()

        self.tasks.append(asyncio.create_task(read()))

    async def local_description(self) -> tuple[dict[str, str], list[dict[str, Any]]]:
        """The SDP without its candidates, and the candidates as trickle ICE sends them
        (``candidate:…``, ``sdpMid``, ``sdpMLineIndex``): they travel as ``ice_candidate``."""
        desc = self.pc.localDescription
        lines, candidates, mid, index = [], [], None, -1
        for line in desc.sdp.splitlines():
            if line.startswith("m="):
                index += 1
            if line.startswith("a=mid:"):
                mid = line[6:]
            if line.startswith("a=candidate:"):
                candidates.append({"candidate": line[2:], "sdpMid": mid, "sdpMLineIndex": index})
                continue
            if line.startswith("a=end-of-candidates"):
                continue
            lines.append(line)
        return {"sdp": "\r\n".join(lines) + "\r\n", "type": desc.type}, candidates

    async def add_candidates(self, candidates: list[dict[str, Any]]) -> None:
        from aiortc.sdp import candidate_from_sdp

        for item in candidates:
            candidate = candidate_from_sdp(item["candidate"].removeprefix("candidate:"))
            candidate.sdpMid = item.get("sdpMid")
            candidate.sdpMLineIndex = item.get("sdpMLineIndex")
            await self.pc.addIceCandidate(candidate)
        await self.pc.addIceCandidate(None)  # end of candidates

    def selected_pair_types(self) -> tuple[str, str]:
        """(local, remote) candidate types of the pair ICE nominated."""
        transport = self.pc.getTransceivers()[0].sender.transport.transport
        connection = transport.iceGatherer._connection
        (pair,) = connection._nominated.values()
        return pair.local_candidate.type, pair.remote_candidate.type

    def local_types(self) -> set[str]:
        transport = self.pc.getTransceivers()[0].sender.transport.transport
        return {c.type for c in transport.iceGatherer.getLocalCandidates()}

    async def close(self) -> None:
        await self.pc.close()
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)


async def send_candidates(sock: CallSocket, call_id: str, candidates: list[dict[str, Any]]) -> None:
    for candidate in candidates:
        ack = await sock.call("ice_candidate", {"callId": call_id, "candidate": candidate})
        assert ack["ok"], ack


async def receive_candidates(sock: CallSocket, call_id: str, count: int) -> list[dict[str, Any]]:
    """The ``count`` candidates the other side sent (they may overtake the SDP)."""
    await sock.inbox.wait_count("ice_candidate", count, timeout=20)
    return [p["candidate"] for p in sock.inbox.all("ice_candidate") if p["callId"] == call_id]


# --- coturn -----------------------------------------------------------------------------


def _answers_stun(port: int) -> bool:
    from aioice import stun

    request = stun.Message(message_method=stun.Method.BINDING, message_class=stun.Class.REQUEST)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(0.2)
        sock.sendto(bytes(request), ("127.0.0.1", port))
        try:
            data, _ = sock.recvfrom(2048)
        except TimeoutError:
            return False
    return stun.parse_message(data).transaction_id == request.transaction_id


@dataclass
class Coturn:
    port: int
    secret: str

    @property
    def url(self) -> str:
        return f"turn:127.0.0.1:{self.port}?transport=udp"


@contextlib.contextmanager
def coturn(folder: Path) -> Iterator[Coturn]:
    """Debian's coturn on free UDP ports of 127.0.0.1, checking TURN REST API credentials
    (``use-auth-secret``) against a secret made for this test.

    It listens on UDP only (``--no-tcp``): coturn waits up to a minute, retrying, for a
    listening port someone else holds, and the suite's own TCP clients hold ports by the
    thousand. If it still does not answer (a UDP port taken after the check), it is started
    again on other ports, three tries in all."""
    if not os.access(TURNSERVER, os.X_OK) or shutil.which(TURNSERVER) is None:
        need_service(f"coturn is not installed ({TURNSERVER}; apt-get install coturn)")
    secret = secrets.token_hex(24)
    for attempt in range(3):
        process, log, port = _start_coturn(folder / f"try{attempt}", secret)
        try:
            if _answers_in_time(process, port):
                yield Coturn(port, secret)
                return
        finally:
            _stop(process)
            log.close()
    raise RuntimeError(f"coturn did not start three times: see {folder}/try*/turnserver.log")


def _start_coturn(folder: Path, secret: str) -> tuple[subprocess.Popen[bytes], IO[str], int]:
    folder.mkdir(parents=True, exist_ok=True)
    ports = free_ports(17, socket.SOCK_DGRAM)
    log = (folder / "turnserver.log").open("w")
    process = subprocess.Popen(
        [
            TURNSERVER,
            "-n",
            "--listening-ip=127.0.0.1",
            "--relay-ip=127.0.0.1",
            f"--listening-port={ports[0]}",
            f"--min-port={ports[1]}",
            f"--max-port={ports[-1]}",
            "--use-auth-secret",
            f"--static-auth-secret={secret}",
            "--realm=inner-circle.test",
            "--allow-loopback-peers",
            "--no-tcp",
            "--no-tls",
            "--no-dtls",
            "--no-cli",
            "--no-tcp-relay",
            "--log-file=stdout",
            f"--pidfile={folder / 'turnserver.pid'}",
            f"--db={folder / 'turndb'}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=folder,
    )
    return process, log, ports[0]


def _answers_in_time(process: subprocess.Popen[bytes], port: int) -> bool:
    deadline = time.monotonic() + 15
    while not _answers_stun(port):  # each try waits 0.2 s for an answer
        if process.poll() is not None or time.monotonic() > deadline:
            return False
    return True


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
