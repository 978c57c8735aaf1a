"""Engine.IO's WebSocket transport, written straight to the connection.

python-engineio serves a WebSocket through ASGI: uvicorn's WebSocket protocol (its own
frame parser, a receive queue, keep-alive pings and a task running the app for the whole
connection), then Engine.IO's socket (an outgoing queue, a writer task, a ping task, and the
WSGI-style ``environ`` with every header). For an idle member that was about 28 KB of the
42.6 KB a connection cost, and every event delivered went through five layers and a task
switch before its write.

Here a connection that *opens* with the WebSocket transport (every client of ours, the seed
app and the SDK do) is one :class:`EngineWebSocketProtocol` and one :class:`DirectSocket`:

- frames are parsed in ``data_received``; each message is handed to python-socketio in a
  task of its own, started in the order the frames came (as python-engineio does);
- a packet going out is framed once per fan-out (every recipient of an event gets the same
  bytes) and written to the transport; a client that stops reading while more than
  ``MAX_PENDING_BYTES`` wait for it is disconnected (it reconnects and catches up through the
  sync log) instead of growing the server without bound;
- Engine.IO's pings are timers, not tasks; no WebSocket-level pings (Engine.IO's are enough).

The handshake still runs the ASGI app, so nothing about who may connect changes: uvicorn's
proxy headers, Engine.IO's origin, version and transport checks, and python-socketio's
connect handler all run as before; only the connection's life after the ``101`` is here.
Anything else that asks for a WebSocket (an upgrade from polling, another path, an unusual
handshake) is handed to uvicorn's own WebSocket protocol unchanged.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import struct
from typing import Any
from urllib.parse import parse_qs, unquote

from engineio import packet as eio
from uvicorn.protocols.utils import get_local_addr, get_remote_addr, is_ssl
from uvicorn.protocols.websockets.auto import AutoWebSocketsProtocol

from inner_circle.server.socket.direct_engine import SCOPE_KEY, DirectEngineServer, DirectSocket
from inner_circle.server.socket.rfc6455 import (
    CLOSE_INVALID_DATA,
    CLOSE_NORMAL,
    CLOSE_PROTOCOL_ERROR,
    CLOSE_RESTART,
    CLOSE_TOO_BIG,
    OP_BINARY,
    OP_CLOSE,
    OP_CONTINUATION,
    OP_PING,
    OP_PONG,
    OP_TEXT,
    accept_key,
    frame,
    parse_upgrade,
    unmask,
)

__all__ = ["EngineWebSocketProtocol"]

log = logging.getLogger(__name__)

# Connection states
HANDSHAKE, OPEN, CLOSING, CLOSED = 0, 1, 2, 3
CLOSE_TIMEOUT = 5.0  # after our close frame, how long the client has to hang up


class EngineWebSocketProtocol(asyncio.Protocol):
    """uvicorn's ``ws`` protocol class: Engine.IO connections opened with
    ``transport=websocket`` are served here, everything else by uvicorn's own protocol."""

    MAX_PENDING_BYTES = 4 * 1024 * 1024  # queued for a client that does not read

    __slots__ = (
        "app_state",
        "buffer",
        "closer",
        "config",
        "delegate",
        "disconnected",
        "engine",
        "fragment_opcode",
        "fragment_size",
        "fragments",
        "handshake",
        "key",
        "pending",
        "server_state",
        "socket",
        "state",
        "tasks",
        "transport",
    )

    def __init__(self, config: Any, server_state: Any, app_state: dict[str, Any], **_: Any):
        self.config = config
        self.server_state = server_state
        self.app_state = app_state
        self.transport: asyncio.Transport | None = None
        self.state = HANDSHAKE
        self.engine: DirectEngineServer | None = None
        self.socket: DirectSocket | None = None
        self.buffer = bytearray()
        self.fragments: list[bytes] | None = None
        self.fragment_opcode = 0
        self.fragment_size = 0
        self.handshake: asyncio.Task[None] | None = None
        self.disconnected: asyncio.Future[None] | None = None
        self.tasks: set[asyncio.Task[Any]] | None = None
        self.key = b""
        self.closer: asyncio.TimerHandle | None = None
        self.delegate: Any = None  # uvicorn's protocol, for a connection handed over
        self.pending: list[bytes] | None = None  # frames of this turn of the loop

    # --- asyncio.Protocol ---------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.server_state.connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.delegate is not None:
            self.delegate.connection_lost(exc)
            return
        self.server_state.connections.discard(self)
        self.state = CLOSED
        if self.closer is not None:
            self.closer.cancel()
            self.closer = None
        if self.disconnected is not None and not self.disconnected.done():
            self.disconnected.set_result(None)
        if self.socket is not None:
            self.socket.stop_pings()
            self.socket.transport_lost()

    def data_received(self, data: bytes) -> None:
        if self.delegate is not None:
            self.delegate.data_received(data)
        elif self.state == OPEN:
            self.buffer += data
            self._read_frames()
        elif self.state == HANDSHAKE and self.handshake is None:
            self._begin(data)
        # During the handshake a client has to wait for the 101; once our close frame is
        # sent, what still arrives is read and dropped.

    def eof_received(self) -> bool | None:
        if self.delegate is not None:
            return self.delegate.eof_received()
        return None

    def pause_writing(self) -> None:
        if self.delegate is not None:
            self.delegate.pause_writing()

    def resume_writing(self) -> None:
        if self.delegate is not None:
            self.delegate.resume_writing()

    def shutdown(self) -> None:
        """uvicorn is stopping: tell the client to come back (1012) and close."""
        if self.state == OPEN:
            self.close(CLOSE_RESTART, linger=False)
        elif self.transport is not None:
            self.transport.close()

    # --- the handshake ------------------------------------------------------------------

    def _begin(self, request: bytes) -> None:
        parsed = parse_upgrade(request)
        engine, engine_path = _engine_of(self.config)
        key = _direct_key(parsed, engine_path) if parsed and engine else None
        if parsed is None or engine is None or key is None:  # (the last implies the others)
            self._hand_over(request)
            return
        _method, raw_path, query, headers = parsed
        self.engine = engine
        self.key = key
        assert self.transport is not None
        scope: dict[str, Any] = {
            "type": "websocket",
            "asgi": {"version": self.config.asgi_version, "spec_version": "2.4"},
            "http_version": "1.1",
            "scheme": "wss" if is_ssl(self.transport) else "ws",
            "server": get_local_addr(self.transport),
            "client": get_remote_addr(self.transport),
            "root_path": self.config.root_path,
            "path": unquote(raw_path.decode("ascii")),
            "raw_path": raw_path,
            "query_string": query,
            "headers": headers,
            "subprotocols": [],
            "state": self.app_state.copy(),
            SCOPE_KEY: self,
        }
        loop = asyncio.get_running_loop()
        self.handshake = loop.create_task(self._run_handshake(scope))

    def _hand_over(self, request: bytes) -> None:
        """Not ours: uvicorn's own WebSocket protocol serves the connection. uvicorn sets
        this protocol on the transport after this call returns, so the next callbacks are
        passed on until the transport is pointed at the other protocol."""
        assert self.transport is not None
        self.server_state.connections.discard(self)
        protocol = AutoWebSocketsProtocol(  # type: ignore[operator]
            config=self.config, server_state=self.server_state, app_state=self.app_state
        )
        self.delegate = protocol
        self.state = CLOSED
        protocol.connection_made(self.transport)
        protocol.data_received(request)
        asyncio.get_running_loop().call_soon(self.transport.set_protocol, protocol)

    async def _run_handshake(self, scope: dict[str, Any]) -> None:
        answered = False

        async def receive() -> dict[str, Any]:
            nonlocal answered
            if not answered:
                answered = True
                return {"type": "websocket.connect"}
            if self.disconnected is None:
                self.disconnected = asyncio.get_running_loop().create_future()
            await self.disconnected
            return {"type": "websocket.disconnect", "code": 1006}

        responded = False

        async def send(message: dict[str, Any]) -> None:
            nonlocal responded
            kind = message["type"]
            if kind == "websocket.close" and self.state == HANDSHAKE:
                responded = True
                self._refuse(403, message.get("reason") or "")
            elif kind == "websocket.close" and self.state == OPEN:
                self.close(int(message.get("code") or CLOSE_NORMAL))
            elif self.state != CLOSED:
                raise RuntimeError(f"unexpected ASGI message during the handshake: {kind}")

        try:
            await self.config.loaded_app(scope, receive, send)
        except Exception:
            log.exception("error while opening a WebSocket")
            if self.state == HANDSHAKE and not responded:
                responded = True
                self._refuse(500, "")
        finally:
            self.handshake = None
        if self.state == HANDSHAKE and not responded:
            self._refuse(500, "")

    def _refuse(self, status: int, reason: str) -> None:
        assert self.transport is not None
        self.state = CLOSED
        if self.transport.is_closing():
            return
        body = reason.encode()
        phrase = {403: b"Forbidden", 500: b"Internal Server Error"}[status]
        self.transport.write(
            b"HTTP/1.1 %d %s\r\ncontent-type: text/plain; charset=utf-8\r\n"
            b"content-length: %d\r\nconnection: close\r\n\r\n%s" % (status, phrase, len(body), body)
        )
        self.transport.close()

    def accept(self, socket: DirectSocket, opening: bytes) -> None:
        """Engine.IO accepted the connection: answer 101, then its OPEN packet."""
        assert self.transport is not None
        self.socket = socket
        if self.state != HANDSHAKE or self.transport.is_closing():
            socket.transport_lost()  # the client left while it was being let in
            return
        self.transport.write(
            b"HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\n"
            b"connection: Upgrade\r\nsec-websocket-accept: " + accept_key(self.key) + b"\r\n\r\n"
        )
        self.key = b""
        self.state = OPEN
        self.transport.write(opening)
        socket.start_pings()

    # --- frames -------------------------------------------------------------------------

    def write(self, data: bytes) -> None:
        """Queue a frame; the engine writes each connection's frames of one turn of the
        event loop together (a batch of messages is one write per recipient, not one per
        message)."""
        if self.state != OPEN:
            return
        if self.pending is None:
            self.pending = [data]
            assert self.engine is not None
            self.engine.flush_soon(self)
        else:
            self.pending.append(data)

    def flush(self) -> None:
        pending, self.pending = self.pending, None
        if pending is None or self.state != OPEN:
            return
        transport = self.transport
        assert transport is not None
        transport.write(pending[0] if len(pending) == 1 else b"".join(pending))
        if transport.get_write_buffer_size() > self.MAX_PENDING_BYTES:
            log.warning(
                "closing Socket.IO connection %s: more than %d bytes wait for a client that "
                "does not read",
                self.socket.sid if self.socket else "?",
                self.MAX_PENDING_BYTES,
            )
            self.state = CLOSED
            transport.abort()

    def close(self, code: int = CLOSE_NORMAL, *, linger: bool = True) -> None:
        """Send a close frame and end our side. The connection itself is closed when the
        client hangs up (or after ``CLOSE_TIMEOUT``): closing a socket with unread data in
        it would reset the connection, and the client could lose the close frame. A server
        that is stopping does not wait (``linger=False``)."""
        self.flush()
        if self.state != OPEN:
            return
        transport = self.transport
        assert transport is not None
        transport.write(frame(OP_CLOSE, struct.pack("!H", code)))
        self.state = CLOSING
        if not linger or not transport.can_write_eof():
            transport.close()
            return
        transport.write_eof()
        self.closer = asyncio.get_running_loop().call_later(CLOSE_TIMEOUT, transport.close)

    def _fail(self, code: int, why: str) -> None:
        log.warning(
            "closing Socket.IO connection %s: %s",
            self.socket.sid if self.socket else "?",
            why,
        )
        self.close(code)

    def _read_frames(self) -> None:
        buffer = self.buffer
        limit = self.engine.max_http_buffer_size if self.engine else 0
        while self.state == OPEN:
            available = len(buffer)
            if available < 2:
                return
            first, second = buffer[0], buffer[1]
            size = second & 0x7F
            start = 2
            if size == 126:
                if available < 4:
                    return
                (size,) = struct.unpack_from("!H", buffer, 2)
                start = 4
            elif size == 127:
                if available < 10:
                    return
                (size,) = struct.unpack_from("!Q", buffer, 2)
                start = 10
            opcode = first & 0x0F
            if first & 0x70:
                return self._fail(CLOSE_PROTOCOL_ERROR, "a frame with reserved bits set")
            if not second & 0x80:
                return self._fail(CLOSE_PROTOCOL_ERROR, "an unmasked frame from a client")
            if opcode >= OP_CLOSE and (size > 125 or not first & 0x80):
                return self._fail(CLOSE_PROTOCOL_ERROR, "a fragmented or long control frame")
            if opcode < OP_CLOSE and size + self.fragment_size > limit:
                return self._fail(CLOSE_TOO_BIG, f"a message over {limit} bytes")
            end = start + 4 + size
            if available < end:
                return
            payload = unmask(bytes(buffer[start + 4 : end]), bytes(buffer[start : start + 4]))
            del buffer[:end]
            self._on_frame(first & 0x80, opcode, payload)

    def _on_frame(self, final: int, opcode: int, payload: bytes) -> None:
        if opcode == OP_TEXT or opcode == OP_BINARY:
            if self.fragments is not None:
                return self._fail(CLOSE_PROTOCOL_ERROR, "a new message inside a fragmented one")
            if final:
                return self._on_message(opcode, payload)
            self.fragments = [payload]
            self.fragment_opcode = opcode
            self.fragment_size = len(payload)
        elif opcode == OP_CONTINUATION:
            if self.fragments is None:
                return self._fail(CLOSE_PROTOCOL_ERROR, "a continuation without a message")
            self.fragments.append(payload)
            self.fragment_size += len(payload)
            if final:
                whole = b"".join(self.fragments)
                self.fragments = None
                self.fragment_size = 0
                self._on_message(self.fragment_opcode, whole)
        elif opcode == OP_PING:
            self.write(frame(OP_PONG, payload))
        elif opcode == OP_PONG:
            pass
        elif opcode == OP_CLOSE:
            code = struct.unpack_from("!H", payload)[0] if len(payload) >= 2 else CLOSE_NORMAL
            self.close(code if 1000 <= code < 5000 and code not in (1005, 1006) else CLOSE_NORMAL)
        else:
            self._fail(CLOSE_PROTOCOL_ERROR, f"an unknown opcode {opcode}")

    def _on_message(self, opcode: int, payload: bytes) -> None:
        message: str | bytes
        if opcode == OP_TEXT:
            try:
                message = payload.decode("utf-8")
            except UnicodeDecodeError:
                return self._fail(CLOSE_INVALID_DATA, "a text message that is not UTF-8")
        else:
            message = payload
        socket = self.socket
        if socket is None or socket.closing or socket.closed:
            return
        try:
            pkt = eio.Packet(encoded_packet=message)
        except (ValueError, TypeError, KeyError, IndexError) as exc:
            return self._fail(CLOSE_NORMAL, f"malformed frame ({type(exc).__name__})")
        if pkt.packet_type == eio.MESSAGE:
            # One task per message, started in the order the frames came, as python-engineio
            # does: python-socketio's handlers may wait (a connect checks its token).
            self.spawn(socket.dispatch(pkt.data))
        else:
            socket.receive(pkt)

    def spawn(self, work: Any) -> None:
        if self.tasks is None:
            self.tasks = set()
        task = asyncio.get_running_loop().create_task(work)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)


def _engine_of(config: Any) -> tuple[DirectEngineServer | None, str]:
    """The Engine.IO server inside uvicorn's app (through its wrappers, such as the proxy
    headers middleware), if it is one of ours."""
    app = getattr(config, "loaded_app", None)
    for _ in range(8):
        if app is None:
            break
        engine = getattr(app, "engineio_server", None)
        engine = getattr(engine, "eio", engine)  # python-socketio's server holds Engine.IO's
        if engine is not None:
            path = getattr(app, "engineio_path", None)
            if isinstance(engine, DirectEngineServer) and isinstance(path, str):
                return engine, path
            break
        app = getattr(app, "app", None)
    return None, ""


def _direct_key(
    parsed: tuple[bytes, bytes, bytes, list[tuple[bytes, bytes]]], path: str
) -> bytes | None:
    """The client's ``Sec-WebSocket-Key`` if this request opens an Engine.IO session over
    WebSocket that this module serves; None for anything else."""
    method, raw_path, query, headers = parsed
    if method != b"GET":
        return None
    try:
        decoded = unquote(raw_path.decode("ascii"))
        params = parse_qs(query.decode("ascii"))
    except UnicodeDecodeError:
        return None
    if not (decoded if decoded.endswith("/") else decoded + "/").startswith(path):
        return None
    if params.get("transport") != ["websocket"] or "sid" in params:
        return None
    fields = dict(headers)
    if fields.get(b"sec-websocket-version") != b"13":
        return None
    key = fields.get(b"sec-websocket-key", b"")
    try:
        nonce = base64.b64decode(key, validate=True)
    except ValueError:
        return None
    if len(nonce) != 16 or b"websocket" not in fields.get(b"upgrade", b"").lower():
        return None
    return key
