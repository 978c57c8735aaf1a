"""Socket.IO bounds (issue 9, items 13 and 14): what a client may send, and how much.

Real server, real clients: the SDK, python-socketio, and raw Engine.IO frames over a
WebSocket where a misbehaving client has to be imitated byte for byte.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
import socketio
import websockets

from inner_circle.sdk import InnerCircleClient
from inner_circle.sdk.errors import AckTimeout, BadRequest, RateLimitedError
from tests.support import Family

WAIT = 8.0
GUARD_LOGGER = "inner_circle.server.socket.server"
StartFamily = Callable[..., Awaitable[Family]]


@pytest.fixture
def server_database_url(database_url: str) -> str:
    """``start_server`` on this test's database: SQLite, then PostgreSQL."""
    return database_url


@pytest.fixture
def start_family(start_server: StartFamily) -> StartFamily:
    """``await start_family(**settings)``: a live server with chosen settings, this test's DB."""
    return start_server


def closed(client: InnerCircleClient) -> asyncio.Event:
    assert client.sio is not None
    gone = asyncio.Event()
    client.sio.on("disconnect", lambda *_: gone.set())
    return gone


async def fence(sender: InnerCircleClient, chat_id: uuid.UUID, watcher: InnerCircleClient) -> None:
    """Everything sent to ``watcher`` before this marker has arrived once it has."""
    marker = await sender.send_message(chat_id, f"fence-{uuid.uuid4()}")
    await watcher.inbox.wait_for("messageReceived", lambda m: m["id"] == str(marker.id))


# --- item 13: reserved and unknown names, binary payloads --------------------------------


@pytest.mark.parametrize(
    "event", ["disconnect", "connect", "connect_error", "disconnecting", "newListener", "noSuch"]
)
async def test_reserved_and_unknown_event_names_from_a_client_are_refused(
    family: Family, event: str
) -> None:
    anna = await family.member("anna", connect=True)
    ben = await family.member("ben", connect=True)
    chat = await anna.family_chat()
    assert anna.sio is not None
    # A real client sends the name; the payload imitates what the library would pass.
    payload: Any = {"token": anna.access_token} if event == "connect" else "client disconnect"

    with pytest.raises(BadRequest) as refused:
        await anna.call(event, payload)

    assert refused.value.code == "VALIDATION_FAILED"
    assert anna.sio.connected
    await fence(anna, chat.id, ben)  # anna's presence never changed on ben's side
    assert not [p for p in ben.inbox.all("presence") if p["userId"] == str(anna.user_id)]
    assert str(anna.user_id) not in ben.inbox.all("userDisconnected")
    assert {m.username: m.is_online for m in await ben.members()}["anna"] is True


async def test_binary_attachments_are_refused_and_nothing_is_stored(family: Family) -> None:
    anna = await family.member("anna", connect=True)
    chat = await anna.family_chat()
    assert anna.sio is not None
    gone = closed(anna)

    # bytes travel as a Socket.IO binary attachment; a NUL inside would pass a str check.
    with pytest.raises((AckTimeout, socketio.exceptions.SocketIOError)):
        await anna.call(
            "sendMessage",
            {"chatId": str(chat.id), "content": b"hidden\x00text", "clientMessageId": "bin-1"},
            timeout=3,
        )

    await asyncio.wait_for(gone.wait(), WAIT)
    assert [m for m in await anna.history(chat.id) if m.client_message_id == "bin-1"] == []
    await anna.connect()  # a well-formed client is welcome back
    assert (await anna.call("getChats"))["ok"]


# --- item 14: Engine.IO sessions, sockets per member, event budget, malformed packets ----


def ws_url(family: Family) -> str:
    return family.url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"


async def closes(ws: Any) -> bool:
    """True when the server closes the WebSocket (every frame until then is read)."""
    try:
        while True:
            await ws.recv()
    except websockets.ConnectionClosed:
        return True


async def test_engineio_sessions_that_never_join_the_namespace_are_closed(
    start_family: StartFamily,
) -> None:
    family = await start_family(socket_connect_timeout_seconds=1)
    anna = await family.member("anna")
    async with websockets.connect(ws_url(family)) as idle:  # no namespace connect at all
        assert (await idle.recv()).startswith("0")  # the Engine.IO handshake
        async with websockets.connect(ws_url(family)) as refused:  # refused, then lingers
            await refused.recv()
            await refused.send('40{"token":"not-a-token"}')
            assert (await refused.recv()).startswith("44")  # CONNECT_ERROR
            assert await asyncio.wait_for(closes(idle), WAIT)
            assert await asyncio.wait_for(closes(refused), WAIT)
    await anna.connect()  # a real client connects in time and stays
    assert (await anna.call("getChats"))["ok"]


async def test_sockets_per_member_are_capped_with_a_clear_error(
    start_family: StartFamily,
) -> None:
    family = await start_family(socket_max_per_member=2)
    anna = await family.member("anna", connect=True)
    await family.device(anna)
    third = socketio.AsyncClient(reconnection=False)
    reasons: list[Any] = []
    third.on("connect_error", reasons.append)
    with pytest.raises(socketio.exceptions.ConnectionError):
        await third.connect(family.url, auth={"token": anna.access_token}, transports=["websocket"])
    assert reasons[0]["data"]["code"] == "RATE_LIMITED"
    assert "at most 2" in reasons[0]["message"]
    ben = await family.member("ben", connect=True)  # the cap is per member
    assert (await ben.call("getChats"))["ok"]


async def test_every_event_but_send_spends_from_one_budget_per_connection(
    start_family: StartFamily,
) -> None:
    family = await start_family(limit_socket_event_burst=9, limit_socket_events_per_second=0.01)
    anna = await family.member("anna", connect=True)
    ben = await family.member("ben")
    chat = await anna.family_chat()
    mine = await anna.post_message(chat.id, "to edit")
    other = await anna.post_message(chat.id, "to delete")
    c, m = str(chat.id), str(mine.id)
    calls: list[tuple[str, Any]] = [
        ("typing", {"chatId": c}),
        ("createChat", {"name": "Group", "participantIds": [str(ben.user_id)]}),
        ("getMessages", {"chatId": c}),
        ("getChats", None),
        ("sync", {}),
        ("markRead", {"chatId": c, "seq": 1}),
        ("markDelivered", {"chatId": c, "seq": 1}),
        ("editMessage", {"chatId": c, "messageId": m, "content": "edited"}),
        ("deleteMessage", {"chatId": c, "messageId": str(other.id)}),
    ]
    for event, payload in calls:  # nine events: the whole burst
        assert (await anna.call(event, payload))["ok"], event
    for event, payload in calls:
        with pytest.raises(RateLimitedError) as limited:
            await anna.call(event, payload)
        assert limited.value.code == "RATE_LIMITED", event
    error = await anna.inbox.wait_for("error", lambda e: e.get("code") == "RATE_LIMITED")
    assert error["retryAfter"] >= 1
    # sendMessage has its own (per member) limit and still goes through ...
    await anna.send_message(chat.id, "still allowed")
    # ... and another connection of the same member has a budget of its own.
    phone = await family.device(anna)
    assert (await phone.call("getChats"))["ok"]


async def raw_connected(family: Family, token: str) -> Any:
    ws = await websockets.connect(ws_url(family))
    assert (await ws.recv()).startswith("0")
    await ws.send("40" + json.dumps({"token": token}))
    assert (await ws.recv()).startswith("40")
    return ws


@pytest.mark.parametrize(
    "frame",
    [
        '42["getChats"',  # not JSON
        "42{}",  # an event that is not a list
        "42[]",  # an event without a name
        "42[7]",  # a name that is not a string
        "44",  # CONNECT_ERROR, which only a server sends
        "49",  # no such Socket.IO packet type
        "x",  # not even an Engine.IO packet
    ],
)
async def test_malformed_packets_log_one_warning_and_close(
    family: Family, caplog: pytest.LogCaptureFixture, frame: str
) -> None:
    anna = await family.member("anna")
    assert anna.access_token is not None
    caplog.set_level(logging.WARNING)
    ws = await raw_connected(family, anna.access_token)
    try:
        await ws.send(frame)
        try:
            await ws.send(frame)  # a second one must not log again
        except websockets.ConnectionClosed:
            pass  # closed already
        assert await asyncio.wait_for(closes(ws), WAIT)
    finally:
        await ws.close()
    await anna.connect()  # the server is fine; a fence for the log records too
    assert (await anna.call("getChats"))["ok"]
    tracebacks = [r for r in caplog.records if r.exc_info]
    assert tracebacks == []
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING and "Socket.IO" in r.msg]
    assert len(warnings) == 1


async def test_unknown_engineio_packet_types_are_one_line_warnings(
    family: Family, caplog: pytest.LogCaptureFixture
) -> None:
    anna = await family.member("anna")
    assert anna.access_token is not None
    caplog.set_level(logging.WARNING)
    ws = await raw_connected(family, anna.access_token)
    try:
        await ws.send("9")  # Engine.IO has packet types 0-6
        await ws.send('42["getChats"]')  # the connection still works
    finally:
        await ws.close()
    await anna.connect()
    assert (await anna.call("getChats"))["ok"]
    assert [r for r in caplog.records if r.exc_info] == []
    assert [r for r in caplog.records if "malformed Engine.IO packet" in r.getMessage()]
