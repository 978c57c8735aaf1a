"""Engine.IO's WebSocket transport served directly (server/socket/websocket.py).

A live server and real clients: the SDK over WebSocket, polling, and polling upgraded to
WebSocket (python-engineio's own path), and a raw client that writes RFC 6455 frames byte
by byte where a client has to misbehave.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import logging
import os
import socket
import struct
from typing import Any

import pytest

from inner_circle.server.socket.direct_engine import DirectSocket
from inner_circle.server.socket.rfc6455 import frame, unmask
from inner_circle.server.socket.websocket import EngineWebSocketProtocol
from tests.support import Family, StartServer

WAIT = 8.0
GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def engine_of(family: Family) -> Any:
    """The server's Engine.IO server (the test server runs in this process)."""
    return family.server.app.engineio_server.eio  # type: ignore[union-attr]


async def until(condition: Any, what: str) -> None:
    """Wait for a condition of the server thread's state, bounded."""
    for _ in range(int(WAIT / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)  # polling another thread's state, bounded by WAIT
    raise AssertionError(f"not within {WAIT} s: {what}")


class RawClient:
    """A WebSocket client that writes frames itself (masked unless told otherwise)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.sid = ""

    @classmethod
    async def open(cls, family: Family, *, receive_buffer: int | None = None) -> RawClient:
        sock = socket.socket()
        if receive_buffer is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        sock.setblocking(False)
        await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", family.server.port))
        reader, writer = await asyncio.open_connection(sock=sock)
        key = base64.b64encode(os.urandom(16))
        writer.write(
            b"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: "
            + key
            + b"\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), WAIT)
        assert head.startswith(b"HTTP/1.1 101 "), head
        expected = base64.b64encode(hashlib.sha1(key + GUID).digest())
        assert b"\r\nsec-websocket-accept: " + expected + b"\r\n" in head  # as the server writes it
        client = cls(reader, writer)
        opening = await client.text()
        assert opening.startswith("0")
        client.sid = json.loads(opening[1:])["sid"]
        return client

    def send(
        self, opcode: int, payload: bytes, *, final: bool = True, masked: bool = True, rsv: int = 0
    ) -> None:
        first = (0x80 if final else 0) | rsv | opcode
        size = len(payload)
        if size < 126:
            head = bytes((first, (0x80 if masked else 0) | size))
        elif size < 65536:
            head = struct.pack("!BBH", first, (0x80 if masked else 0) | 126, size)
        else:
            head = struct.pack("!BBQ", first, (0x80 if masked else 0) | 127, size)
        if masked:
            mask = os.urandom(4)
            self.writer.write(head + mask + unmask(payload, mask))
        else:
            self.writer.write(head + payload)

    def text(self, data: str | None = None, **kwargs: Any) -> Any:
        """``text(data)`` sends a text frame; ``await text()`` reads the next text message."""
        if data is not None:
            self.send(0x1, data.encode(), **kwargs)
            return None
        return self._next_text()

    async def _next_text(self) -> str:
        while True:
            opcode, payload = await self.frame()
            if opcode == 0x1:
                return payload.decode()
            assert opcode in (0x9, 0xA), f"expected a text frame, got opcode {opcode}"

    async def frame(self) -> tuple[int, bytes]:
        head = await asyncio.wait_for(self.reader.readexactly(2), WAIT)
        assert not head[1] & 0x80, "a server's frames are not masked"
        size = head[1] & 0x7F
        if size == 126:
            (size,) = struct.unpack("!H", await self.reader.readexactly(2))
        elif size == 127:
            (size,) = struct.unpack("!Q", await self.reader.readexactly(8))
        return head[0] & 0x0F, await asyncio.wait_for(self.reader.readexactly(size), WAIT)

    async def join(self, token: str) -> None:
        self.text("40" + json.dumps({"token": token}))
        assert (await self.text()).startswith("40")

    async def close_code(self) -> int:
        """Read until the server's close frame; then the server ends the connection."""
        while True:
            opcode, payload = await self.frame()
            if opcode == 0x8:
                (code,) = struct.unpack("!H", payload[:2])
                assert await asyncio.wait_for(self.reader.read(), WAIT) == b""
                return int(code)

    def close(self) -> None:
        self.writer.close()


@pytest.fixture
async def family(start_server: StartServer) -> Family:
    return await start_server()


async def test_websocket_polling_and_upgraded_clients_all_receive_an_event(
    family: Family,
) -> None:
    anna = await family.member("anna", connect=True)
    ben = await family.member("ben")
    await ben.connect(transports=["polling"])
    cleo = await family.member("cleo")
    await cleo.connect(transports=["polling", "websocket"])
    sockets = engine_of(family).sockets
    assert anna.sio is not None and ben.sio is not None
    assert isinstance(sockets[anna.sio.eio.sid], DirectSocket)  # opened as a WebSocket
    assert not isinstance(sockets[ben.sio.eio.sid], DirectSocket)  # python-engineio's
    chat = await anna.family_chat()
    sent = await anna.send_message(chat.id, "to everyone")
    for member in (anna, ben, cleo):
        got = await member.inbox.wait_for("messageReceived", lambda m: m["id"] == str(sent.id))
        assert got["content"] == "to everyone"


async def test_a_fragmented_event_with_a_ping_between_its_fragments_is_answered(
    family: Family,
) -> None:
    anna = await family.member("anna")
    assert anna.access_token is not None
    raw = await RawClient.open(family)
    try:
        await raw.join(anna.access_token)
        raw.text("42", final=False)
        raw.send(0x0, b'7["getCh', final=False)
        raw.send(0x9, b"are you there")  # a control frame may come between fragments
        raw.send(0x0, b'ats"]')
        assert await raw.frame() == (0xA, b"are you there")
        answer = await raw.text()
        while answer.startswith("42"):  # the server's own events (userChats) may come first
            answer = await raw.text()
        assert answer.startswith("437[")  # the acknowledgement of event 7
        assert json.loads(answer[3:])[0]["ok"] is True
    finally:
        raw.close()


@pytest.mark.parametrize(
    ("case", "code"),
    [
        ("unmasked", 1002),
        ("reserved bits", 1002),
        ("continuation first", 1002),
        ("not UTF-8", 1007),
        ("too big", 1009),
        ("too big in fragments", 1009),
        ("unknown opcode", 1002),
    ],
)
async def test_frames_that_break_the_protocol_close_with_its_code_and_others_go_on(
    family: Family, caplog: pytest.LogCaptureFixture, case: str, code: int
) -> None:
    caplog.set_level(logging.WARNING)
    anna = await family.member("anna", connect=True)
    assert anna.access_token is not None
    raw = await RawClient.open(family)
    try:
        await raw.join(anna.access_token)
        big = b"4" + b"x" * (64 * 1024)
        if case == "unmasked":
            raw.send(0x1, b'42["getChats"]', masked=False)
        elif case == "reserved bits":
            raw.send(0x1, b'42["getChats"]', rsv=0x40)
        elif case == "continuation first":
            raw.send(0x0, b'42["getChats"]')
        elif case == "not UTF-8":
            raw.send(0x1, b'42["\xff\xfe"]')
        elif case == "too big":
            raw.send(0x1, big)
        elif case == "too big in fragments":
            raw.send(0x1, big[:40000], final=False)
            raw.send(0x0, big[40000:])
        else:
            raw.send(0x3, b"")
        assert await raw.close_code() == code
        await until(lambda: raw.sid not in engine_of(family).sockets, "the session is gone")
    finally:
        raw.close()
    assert (await anna.call("getChats"))["ok"]  # the server and other members are fine
    assert [r for r in caplog.records if r.exc_info] == []
    assert any("closing Socket.IO connection" in r.getMessage() for r in caplog.records)


async def test_a_close_frame_is_answered_and_ends_the_session(family: Family) -> None:
    anna = await family.member("anna")
    assert anna.access_token is not None
    raw = await RawClient.open(family)
    try:
        await raw.join(anna.access_token)
        assert raw.sid in engine_of(family).sockets
        raw.send(0x8, struct.pack("!H", 1000))
        assert await raw.close_code() == 1000
        await until(lambda: raw.sid not in engine_of(family).sockets, "the session is gone")
    finally:
        raw.close()


async def test_a_foreign_origin_is_refused_with_403_before_any_frame(family: Family) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", family.server.port)
    try:
        writer.write(
            b"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Origin: https://evil.example\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Key: " + base64.b64encode(os.urandom(16)) + b"\r\n"
            b"Sec-WebSocket-Version: 13\r\n\r\n"
        )
        answer = await asyncio.wait_for(reader.read(), WAIT)  # the server closes after it
    finally:
        writer.close()
    assert answer.startswith(b"HTTP/1.1 403 ")
    assert engine_of(family).sockets == {}


async def test_a_stopping_server_closes_websockets_with_1012(family: Family) -> None:
    anna = await family.member("anna")
    assert anna.access_token is not None
    raw = await RawClient.open(family)
    try:
        await raw.join(anna.access_token)
        await family.server.stop()  # type: ignore[union-attr]
        assert await raw.close_code() == 1012  # "service restart": clients come back
    finally:
        raw.close()


async def test_engineio_pings_keep_an_answering_client_and_close_a_silent_one(
    family: Family,
) -> None:
    engine = engine_of(family)
    engine.ping_interval, engine.ping_timeout = 0.2, 0.4
    anna = await family.member("anna")
    assert anna.access_token is not None
    answering = await RawClient.open(family)
    silent = await RawClient.open(family)
    try:
        for raw in (answering, silent):
            await raw.join(anna.access_token)
        for _ in range(3):  # three rounds: each ping answered in time
            assert await answering.text() == "2"
            answering.text("3")
        assert await silent.text() == "2"  # and never answered
        assert await silent.text() == "1"  # Engine.IO's CLOSE after the timeout
        assert await silent.close_code() == 1000
        assert answering.sid in engine.sockets
        assert silent.sid not in engine.sockets
    finally:
        answering.close()
        silent.close()


async def test_a_client_that_stops_reading_is_disconnected_and_holds_up_nobody(
    family: Family, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(EngineWebSocketProtocol, "MAX_PENDING_BYTES", 256 * 1024)
    caplog.set_level(logging.WARNING)
    anna = await family.member("anna", connect=True)
    ben = await family.member("ben")
    assert ben.access_token is not None
    stalled = await RawClient.open(family, receive_buffer=4096)
    try:
        await stalled.join(ben.access_token)  # ... and then reads nothing more
        engine = engine_of(family)
        chat = await anna.family_chat()
        text = "x" * 4000
        sent = []
        for _ in range(2000):  # bounded: about 8 MB of events at most
            if stalled.sid not in engine.sockets:
                break
            sent.append(await anna.send_message(chat.id, text))
        assert stalled.sid not in engine.sockets
        assert len(sent) < 2000
        last = sent[-1]
        await anna.inbox.wait_for("messageReceived", lambda m: m["id"] == str(last.id))
        assert any("does not read" in r.getMessage() for r in caplog.records)
    finally:
        stalled.close()


# --- the frame helpers --------------------------------------------------------------------


@pytest.mark.parametrize(("size", "header"), [(0, 2), (125, 2), (126, 4), (65535, 4), (65536, 10)])
def test_a_frame_carries_its_length_in_the_shortest_form(size: int, header: int) -> None:
    data = frame(0x1, b"a" * size)
    assert len(data) == header + size
    assert data[0] == 0x81
    length = data[1] & 0x7F
    if header == 2:
        assert length == size
    elif header == 4:
        assert length == 126 and struct.unpack("!H", data[2:4])[0] == size
    else:
        assert length == 127 and struct.unpack("!Q", data[2:10])[0] == size


@pytest.mark.parametrize("size", [0, 1, 3, 4, 5, 1000, 65537])
def test_unmask_is_the_byte_wise_xor_with_the_repeated_key(size: int) -> None:
    payload = os.urandom(size)
    mask = os.urandom(4)
    expected = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    assert unmask(payload, mask) == expected
