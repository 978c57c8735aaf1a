"""The Socket.IO server with bounds at the packet level, before any handler runs.

python-socketio accepts, by design, more than Inner Circle's clients ever send:

- **Binary packets.** A binary event announces its attachment count and the server
  buffers attachments until they all arrive; and attachments reach handlers as
  ``bytes``, which string fields accept. Our clients send JSON only: a binary packet
  closes the connection.
- **Malformed packets** (bad JSON, an event without a name, an unknown packet type)
  raise inside the library and were logged as tracebacks, one per packet. Here each
  is logged once, at WARNING, and the connection is closed.
- **Engine.IO sessions that never join the namespace** (no token, a refused token, a
  half-written client) lived as long as they answered pings. They are closed after
  ``connect_timeout`` seconds without a namespace connection; a request to join that the
  server is still answering when the time runs out is answered first (a busy server must
  not close the clients it is letting in), and the session is judged after it.
- Client acknowledgements: the server never asks a client for one, so they are ignored.

The hooks are python-socketio's packet handlers (``_handle_eio_*``, ``_handle_event``):
private, but the only place a packet is seen before it is buffered or dispatched; each
override calls the library's own method for everything it lets through.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import socketio

from inner_circle.server.socket.direct_engine import DirectEngineServer, DirectSocket

__all__ = ["GuardedServer"]

log = logging.getLogger(__name__)

NAMESPACE = "/"
BINARY_TYPES = ("5", "6")  # Socket.IO BINARY_EVENT, BINARY_ACK
ACK_TYPE = "3"


class GuardedServer(socketio.AsyncServer):
    def __init__(self, *args: Any, connect_timeout: float = 10.0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.connect_timeout = connect_timeout
        self._unbound: dict[str, asyncio.TimerHandle] = {}
        self._joining: set[str] = set()  # a namespace CONNECT is being answered
        self._overdue: set[str] = set()  # ran out of time while joining
        self._dropping: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self.eio.logger.addFilter(_QuietReceiveErrors())

    def _engineio_server_class(self) -> type[DirectEngineServer]:
        return DirectEngineServer  # WebSocket connections without Engine.IO's queues and tasks

    # --- Engine.IO sessions without a namespace ---------------------------------------

    async def _handle_eio_connect(self, eio_sid: str, environ: Any) -> Any:
        result = await super()._handle_eio_connect(eio_sid, environ)
        self._arm(eio_sid)
        return result

    async def _handle_eio_disconnect(self, eio_sid: str, reason: Any = None) -> None:
        await super()._handle_eio_disconnect(eio_sid, reason)
        timer = self._unbound.pop(eio_sid, None)
        if timer is not None:
            timer.cancel()
        self._overdue.discard(eio_sid)
        self._dropping.discard(eio_sid)

    async def disconnect(self, sid: str, namespace: str | None = None, **kwargs: Any) -> None:
        eio_sid = self.manager.eio_sid_from_sid(sid, namespace or NAMESPACE)
        await super().disconnect(sid, namespace=namespace, **kwargs)
        if eio_sid is not None and eio_sid in self.environ:
            self._arm(eio_sid)  # a well-behaved client closes now; others get the timeout

    async def _handle_connect(self, eio_sid: str, namespace: str, data: Any) -> None:
        # A client that asked to join is answered however long a busy server takes (a
        # thousand devices reconnecting after a restart): the timeout is for clients that
        # never ask, or that are refused; one that ran out meanwhile is judged after.
        self._joining.add(eio_sid)
        try:
            await super()._handle_connect(eio_sid, namespace, data)
            # python-socketio counts a connection as connected only after its connect
            # handler returned and CONNECT was sent; a revocation in that gap could not close
            # it. Now it can: the namespace finishes what it had to leave pending
            # (socket/namespace.py).
            handler = self.namespace_handlers.get(namespace or NAMESPACE)
            sid = self.manager.sid_from_eio_sid(eio_sid, namespace or NAMESPACE)
            established = getattr(handler, "connection_established", None)
            if sid is not None and established is not None:
                await established(sid)
        finally:
            self._joining.discard(eio_sid)
        if eio_sid in self._overdue:
            self._expire(eio_sid)

    async def _handle_disconnect(self, eio_sid: str, namespace: str, reason: Any = None) -> None:
        await super()._handle_disconnect(eio_sid, namespace, reason)
        if eio_sid in self.environ:
            self._arm(eio_sid)

    def _arm(self, eio_sid: str) -> None:
        timer = self._unbound.pop(eio_sid, None)
        if timer is not None:
            timer.cancel()
        loop = asyncio.get_running_loop()
        self._unbound[eio_sid] = loop.call_later(self.connect_timeout, self._expire, eio_sid)

    def _expire(self, eio_sid: str) -> None:
        self._unbound.pop(eio_sid, None)
        self._overdue.discard(eio_sid)
        if eio_sid not in self.environ:
            return
        if eio_sid in self._joining:  # decided when the answer to its request is given
            self._overdue.add(eio_sid)
            return
        for namespace in self.namespace_handlers:  # joined one of them: it is in use
            sid = self.manager.sid_from_eio_sid(eio_sid, namespace)
            if sid is not None and self.manager.is_connected(sid, namespace):
                return
        log.info("closing Engine.IO session %s: no namespace connection in time", eio_sid)
        self._spawn(self._close_transport(eio_sid))

    async def _close_transport(self, eio_sid: str) -> None:
        """Close the Engine.IO session *and* its transport: Engine.IO's own close only
        asks the client to hang up, which a misbehaving client need not do."""
        socket = self.eio.sockets.get(eio_sid)
        await self.eio.disconnect(eio_sid)
        if socket is not None and not isinstance(socket, DirectSocket):  # that one closed itself
            await socket.queue.put(None)  # ends the writer, which closes the WebSocket

    # --- packets ----------------------------------------------------------------------

    async def _handle_eio_message(self, eio_sid: str, data: Any) -> None:
        if eio_sid in self._dropping:
            return
        if not isinstance(data, str) or data[:1] in BINARY_TYPES:
            await self._drop(eio_sid, "binary packets are not accepted")
            return
        if data[:1] == ACK_TYPE:
            return
        try:
            await super()._handle_eio_message(eio_sid, data)
        except (ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
            await self._drop(eio_sid, f"malformed packet ({type(exc).__name__})")

    async def _handle_event(self, eio_sid: str, namespace: str, id: Any, data: Any) -> None:
        if not (isinstance(data, list) and data and isinstance(data[0], str)):
            raise ValueError("an event packet without an event name")
        await super()._handle_event(eio_sid, namespace, id, data)

    async def handle_request(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return await super().handle_request(*args, **kwargs)
        except (ValueError, TypeError, KeyError, IndexError) as exc:
            # Engine.IO decodes a WebSocket frame outside its own error handling.
            log.warning("closing a Socket.IO connection: malformed frame (%s)", type(exc).__name__)
            return None

    async def _drop(self, eio_sid: str, reason: str) -> None:
        """Log once, at WARNING, and close the Engine.IO session."""
        if eio_sid in self._dropping:
            return
        self._dropping.add(eio_sid)
        log.warning("closing Socket.IO connection %s: %s", eio_sid, reason)
        self._spawn(self._close_transport(eio_sid))

    def _spawn(self, work: Any) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


class _QuietReceiveErrors(logging.Filter):
    """Engine.IO logs a packet of an unknown type with a traceback ("Unknown receive error")
    from inside its WebSocket loop, where no hook reaches; one WARNING line says enough."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.getMessage() == "Unknown receive error":
            error = record.exc_info[1]
            record.msg = "Socket.IO connection sent a malformed Engine.IO packet (%s)"
            record.args = (type(error).__name__,)
            record.exc_info = None
            record.exc_text = None
            record.levelno = logging.WARNING
            record.levelname = "WARNING"
        return True
