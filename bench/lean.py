"""A lean Socket.IO v5 client over Engine.IO v4 WebSocket frames (aiohttp).

The python-socketio client costs a few hundred kilobytes and several tasks per
connection; a load generator with 1,000-10,000 connections in one process needs
far less. This client speaks exactly what the benchmark needs:

    server → ``0{"sid":..}``             Engine.IO open
    client → ``40{"token":..}``          Socket.IO connect with auth
    server → ``40{"sid":..}`` / ``44{..}`` connected / refused
    server → ``2``  client → ``3``       heartbeat (the server pings)
    client → ``42N["sendMessage",{..}]`` event with ack id N
    server → ``43N[{..}]``               the acknowledgement
    server → ``42["messageReceived",{..}]``

Only WebSocket transport, only the default namespace, text frames only.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import aiohttp
import orjson

__all__ = ["LeanSocket", "Refused"]

EventHandler = Callable[[str, Any, int], None]


class Refused(Exception):
    """The server refused the Socket.IO connect (``44`` packet)."""


class LeanSocket:
    """One Socket.IO connection. ``on_event(name, data, recv_ns)`` sees every server event."""

    __slots__ = (
        "_acks",
        "_next_id",
        "_reader",
        "_ws",
        "close_reason",
        "closed",
        "on_event",
        "sid",
    )

    def __init__(self, on_event: EventHandler | None = None) -> None:
        self.on_event = on_event
        self.sid: str | None = None
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._acks: dict[int, asyncio.Future[Any]] = {}
        self._next_id = 0
        self._reader: asyncio.Task[None] | None = None
        self.closed = asyncio.Event()
        self.close_reason = ""

    async def connect(
        self, session: aiohttp.ClientSession, base_url: str, token: str, *, timeout: float = 30.0
    ) -> None:
        url = base_url.replace("http://", "ws://", 1).rstrip("/")
        self._ws = await session.ws_connect(
            f"{url}/socket.io/?EIO=4&transport=websocket",
            autoping=False,
            compress=0,
            max_msg_size=1 << 20,
            timeout=aiohttp.ClientWSTimeout(ws_receive=None, ws_close=5.0),
        )
        async with asyncio.timeout(timeout):
            opened = await self._ws.receive_str()
            if not opened.startswith("0"):
                raise Refused(f"unexpected open packet {opened[:80]!r}")
            await self._ws.send_str("40" + orjson.dumps({"token": token}).decode())
            while True:
                frame = await self._ws.receive_str()
                if frame == "2":
                    await self._ws.send_str("3")
                    continue
                if frame.startswith("40"):
                    self.sid = orjson.loads(frame[2:]).get("sid")
                    break
                if frame.startswith("44"):
                    raise Refused(frame[2:])
                if frame.startswith("42"):
                    # The server may deliver room events (presence ...) before its connect
                    # answer: the room is joined inside the connect handler. socket.io-client
                    # buffers these too.
                    if self.on_event is not None:
                        payload = orjson.loads(frame[2:])
                        self.on_event(
                            payload[0],
                            payload[1] if len(payload) > 1 else None,
                            time.monotonic_ns(),
                        )
                    continue
                raise Refused(f"unexpected packet before connect: {frame[:80]!r}")
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        ws = self._ws
        assert ws is not None
        try:
            async for msg in ws:
                if msg.type is aiohttp.WSMsgType.PING:
                    await ws.pong(msg.data)  # uvicorn's own WebSocket keep-alive
                    continue
                if msg.type is aiohttp.WSMsgType.PONG:
                    continue
                if msg.type is not aiohttp.WSMsgType.TEXT:
                    self.close_reason = f"{msg.type.name} {msg.data!r} {msg.extra!r}"[:200]
                    break
                frame: str = msg.data
                kind = frame[0]
                if kind == "4":
                    sub = frame[1]
                    if sub == "2":
                        if self.on_event is not None:
                            now = time.monotonic_ns()
                            payload = orjson.loads(frame[2:])
                            self.on_event(payload[0], payload[1] if len(payload) > 1 else None, now)
                    elif sub == "3":
                        cut = frame.index("[", 2)
                        future = self._acks.pop(int(frame[2:cut]), None)
                        if future is not None and not future.done():
                            future.set_result(orjson.loads(frame[cut:]))
                    elif sub == "1":
                        self.close_reason = "socket.io disconnect"
                        break
                elif kind == "2":
                    await ws.send_str("3")
                elif kind == "1":
                    self.close_reason = "engine.io close"
                    break
        except (aiohttp.ClientError, ConnectionError, asyncio.CancelledError) as exc:
            self.close_reason = f"{type(exc).__name__}: {exc}"[:200]
        finally:
            self.closed.set()
            for future in self._acks.values():
                if not future.done():
                    future.set_exception(ConnectionError("connection closed"))
            self._acks.clear()

    def emit_with_ack(self, event: str, data: Any) -> asyncio.Future[Any]:
        """Send ``event`` now; the future resolves with the ack's first argument."""
        assert self._ws is not None
        ack_id = self._next_id
        self._next_id += 1
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._acks[ack_id] = future
        frame = f"42{ack_id}" + orjson.dumps([event, data]).decode()
        # send_str is a coroutine only for flow control; the frame is written at once.
        task = asyncio.ensure_future(self._ws.send_str(frame))
        task.add_done_callback(_swallow)
        return future

    async def emit(self, event: str, data: Any) -> None:
        assert self._ws is not None
        await self._ws.send_str("42" + orjson.dumps([event, data]).decode())

    async def call(self, event: str, data: Any, timeout: float = 10.0) -> Any:
        future = self.emit_with_ack(event, data)
        async with asyncio.timeout(timeout):
            result = await future
        return result[0] if isinstance(result, list) and result else result

    async def close(self) -> None:
        if self._ws is not None and not self._ws.closed:
            try:
                await self._ws.send_str("41")
            except (aiohttp.ClientError, ConnectionError):
                pass
            await self._ws.close()
        if self._reader is not None:
            self._reader.cancel()
            try:
                await self._reader
            except asyncio.CancelledError:
                pass


def _swallow(task: asyncio.Future[Any]) -> None:
    if not task.cancelled():
        task.exception()
