"""The Engine.IO side of the direct WebSocket transport (socket/websocket.py): the server
that makes a :class:`DirectSocket` for a connection the protocol opened, and that socket."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

import engineio
from engineio import packet as eio

from inner_circle.server.socket.rfc6455 import CLOSE_NORMAL, OP_BINARY, OP_TEXT, frame

if TYPE_CHECKING:
    from inner_circle.server.socket.websocket import EngineWebSocketProtocol

__all__ = ["SCOPE_KEY", "DirectEngineServer", "DirectSocket"]

log = logging.getLogger(__name__)

SCOPE_KEY = "inner_circle.websocket"  # the scope of a handshake this module serves

# What the environ keeps once the connection is open: what the namespaces read
# (socket/granted.py, origins.py) and what a log line may want.
KEPT_ENVIRON = (
    "REQUEST_METHOD",
    "PATH_INFO",
    "QUERY_STRING",
    "REMOTE_ADDR",
    "HTTP_AUTHORIZATION",
    "HTTP_HOST",
    "HTTP_ORIGIN",
    "HTTP_USER_AGENT",
)
KEPT_SCOPE = ("type", "scheme", "client", "server", "path", "root_path")

PING_FRAME = frame(OP_TEXT, b"2")
NOOP_FRAME = frame(OP_TEXT, b"6")


class DirectEngineServer(engineio.AsyncServer):
    """python-engineio's server; a connection opened by :class:`EngineWebSocketProtocol`
    gets a :class:`DirectSocket` instead of the library's queue-and-task socket."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The last packet framed and its frame: a fan-out hands the same packet object to
        # every recipient, so it is framed once. The packet is held, so its identity cannot
        # be reused by another object while it is here.
        self.last_framed: tuple[Any, bytes] = (None, b"")
        # Connections with frames waiting for the end of this turn of the loop.
        self._unflushed: list[EngineWebSocketProtocol] = []

    def flush_soon(self, protocol: EngineWebSocketProtocol) -> None:
        if not self._unflushed:
            asyncio.get_running_loop().call_soon(self._flush)
        self._unflushed.append(protocol)

    def _flush(self) -> None:
        unflushed, self._unflushed = self._unflushed, []
        for protocol in unflushed:
            protocol.flush()

    async def _handle_connect(self, environ: Any, transport: str, jsonp_index: Any = None) -> Any:
        protocol = (environ.get("asgi.scope") or {}).get(SCOPE_KEY)
        if protocol is None or transport != "websocket":
            return await super()._handle_connect(environ, transport, jsonp_index)
        sid = self.generate_id()
        socket = DirectSocket(self, sid, protocol)
        self.sockets[sid] = socket
        accepted = await self._trigger_event("connect", sid, environ, run_async=False)
        if accepted is not None and accepted is not True:
            self.sockets.pop(sid, None)
            self.logger.warning("Application rejected connection")
            return self._unauthorized(accepted or None)
        opening = eio.Packet(
            eio.OPEN,
            {
                "sid": sid,
                "upgrades": [],
                "pingTimeout": int(self.ping_timeout * 1000),
                "pingInterval": int(self.ping_interval + self.ping_interval_grace_period) * 1000,
                "maxPayload": self.max_http_buffer_size,
            },
        )
        slim(environ)
        protocol.accept(socket, frame(OP_TEXT, opening.encode().encode()))
        return None

    def framed(self, pkt: Any) -> bytes:
        last = self.last_framed
        if last[0] is pkt:
            return last[1]
        encoded = pkt.encode()
        if isinstance(encoded, str):
            data = frame(OP_TEXT, encoded.encode())
        else:
            data = frame(OP_BINARY, bytes(encoded))
        self.last_framed = (pkt, data)
        return data


def slim(environ: dict[str, Any]) -> None:
    """Keep what is read after the handshake; python-socketio holds this same dict."""
    scope = environ.get("asgi.scope") or {}
    kept = {key: environ[key] for key in KEPT_ENVIRON if key in environ}
    kept["asgi.scope"] = {key: scope[key] for key in KEPT_SCOPE if key in scope}
    environ.clear()
    environ.update(kept)


class DirectSocket:
    """What python-engineio and python-socketio use of an Engine.IO socket, for a
    connection of :class:`EngineWebSocketProtocol`: sending writes the frame at once."""

    __slots__ = (
        "_awaiting_pong",
        "_timer",
        "closed",
        "closing",
        "connected",
        "protocol",
        "server",
        "session",
        "sid",
        "upgraded",
        "upgrading",
    )

    def __init__(self, server: DirectEngineServer, sid: str, protocol: EngineWebSocketProtocol):
        self.server = server
        self.sid = sid
        self.protocol = protocol
        self.session: dict[str, Any] = {}
        self.connected = True
        self.upgrading = False
        # "upgraded" is how python-engineio tells a WebSocket from polling: a polling
        # request naming this session is refused, and transport() says "websocket".
        self.upgraded = True
        self.closing = False
        self.closed = False
        self._timer: asyncio.TimerHandle | None = None
        self._awaiting_pong = False

    # --- the Engine.IO socket interface -----------------------------------------------

    async def send(self, pkt: Any) -> None:
        self.protocol.write(self.server.framed(pkt))

    async def check_ping_timeout(self) -> bool:
        return not self.closed  # the ping timers close a silent client themselves

    async def close(self, wait: bool = True, abort: bool = False, reason: Any = None) -> None:
        if self.closed or self.closing:
            return
        self.closing = True
        self.stop_pings()
        try:
            await self.server._trigger_event(
                "disconnect",
                self.sid,
                reason or self.server.reason.SERVER_DISCONNECT,
                run_async=False,
            )
        finally:
            if not abort:
                self.protocol.write(self.server.framed(eio.Packet(eio.CLOSE)))
            self.closed = True
            if self.server.sockets.get(self.sid) is self:
                del self.server.sockets[self.sid]
            self.protocol.close(CLOSE_NORMAL)

    # --- packets from the client ------------------------------------------------------

    async def dispatch(self, data: Any) -> None:
        """A MESSAGE packet to python-socketio (python-engineio logs a handler's errors)."""
        await self.server._trigger_event("message", self.sid, data, run_async=False)

    def receive(self, pkt: Any) -> None:
        """Every Engine.IO packet but MESSAGE (which goes to :meth:`dispatch`)."""
        kind = pkt.packet_type
        if kind == eio.PONG:
            self.pong()
        elif kind == eio.CLOSE:
            self.protocol.spawn(
                self.close(wait=False, abort=True, reason=self.server.reason.CLIENT_DISCONNECT)
            )
        elif kind == eio.UPGRADE:
            self.protocol.write(NOOP_FRAME)
        elif kind not in (eio.OPEN, eio.PING, eio.NOOP):
            log.warning("Socket.IO connection sent a malformed Engine.IO packet (type %s)", kind)

    # --- pings --------------------------------------------------------------------------

    def start_pings(self) -> None:
        loop = asyncio.get_running_loop()
        self._timer = loop.call_later(self.server.ping_interval, self._ping)

    def stop_pings(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _ping(self) -> None:
        if self.closing or self.closed:
            return
        self.protocol.write(PING_FRAME)
        self._awaiting_pong = True
        loop = asyncio.get_running_loop()
        self._timer = loop.call_later(self.server.ping_timeout, self._ping_timed_out)

    def pong(self) -> None:
        if not self._awaiting_pong:
            return
        self._awaiting_pong = False
        self.stop_pings()
        self.start_pings()

    def _ping_timed_out(self) -> None:
        self._timer = None
        log.info("%s: no answer to the ping, closing the connection", self.sid)
        self.protocol.spawn(
            self.close(wait=False, abort=False, reason=self.server.reason.PING_TIMEOUT)
        )

    def transport_lost(self) -> None:
        if not (self.closed or self.closing):
            self.protocol.spawn(
                self.close(wait=False, abort=True, reason=self.server.reason.TRANSPORT_CLOSE)
            )
