"""How the HTTP server itself is run: uvicorn's options, a request read timeout, and
stopping well.

Without a reverse proxy in front, uvicorn alone faces the internet. It closes idle
keep-alive connections, but it waits for a request's headers and body as long as a
client keeps the connection open: a few hundred slow clients ("slowloris") would hold
every connection the process has. :class:`TimedHttpProtocol` closes a connection whose
request has not fully arrived ``request_read_timeout_seconds`` after it began (or after
the connection opened). ``limit_concurrency`` bounds connections and running requests
per process; beyond it uvicorn answers 503 instead of running out of file descriptors.

``inner-circle serve`` passes :func:`uvicorn_options`; with ``--workers`` each worker
builds the app with ``inner_circle.server.asgi:create``, which calls :func:`configure`.

Stopping well: on SIGTERM uvicorn stops accepting connections, lets in-flight requests
finish (``timeout_graceful_shutdown``) and then runs the app's shutdown. Before that,
:class:`GracefulServer` sends every Socket.IO client of *this process* a
``serverShutdown`` event and disconnects it, so clients reconnect at once (to another
process behind the proxy, or to this server once it is back) instead of waiting for a
dead connection to time out.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from typing import Any, ClassVar

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from inner_circle.protocol.events import ServerEvent
from inner_circle.server.settings import Settings
from inner_circle.server.socket.websocket import EngineWebSocketProtocol

__all__ = [
    "GracefulServer",
    "TimedHttpProtocol",
    "announce_shutdown",
    "configure",
    "protocols",
    "run",
    "uvicorn_options",
]

log = logging.getLogger(__name__)
RECONNECT_AFTER_MS = 1000


class TimedHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a deadline for receiving each whole request.

    The deadline is process-wide (a class attribute) because uvicorn builds protocol
    instances itself and passes worker processes only its own configuration.
    """

    read_timeout: ClassVar[float] = 10.0
    # An upload chunk (tus PATCH, docs/media.md) on a slow phone link may take longer than
    # the deadline as a whole: its deadline starts again each time this much more arrived
    # (so a client must keep sending at least 64 KiB per deadline, not trickle).
    UPLOAD_PROGRESS: ClassVar[int] = 64 * 1024

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._read_deadline: asyncio.TimerHandle | None = None
        self._upload_body = False
        self._since_armed = 0

    def _arm(self) -> None:
        if self._read_deadline is None:
            self._read_deadline = self.loop.call_later(self.read_timeout, self._read_timed_out)

    def _disarm(self) -> None:
        if self._read_deadline is not None:
            self._read_deadline.cancel()
            self._read_deadline = None

    def _read_timed_out(self) -> None:
        self._read_deadline = None
        if not self.transport.is_closing():
            log.debug("closing a connection whose request did not arrive in time")
            self.transport.close()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()  # a connection that never sends a byte is not held either

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._arm()

    def on_headers_complete(self) -> None:
        if self.parser.should_upgrade() and self._should_upgrade():
            self._disarm()  # WebSocket: the connection now belongs to the WebSocket protocol
        self._upload_body = self.parser.get_method() == b"PATCH" and self.url.startswith(
            b"/uploads/"
        )
        self._since_armed = 0
        super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        if self._upload_body:
            self._since_armed += len(body)
            if self._since_armed >= self.UPLOAD_PROGRESS:
                self._since_armed = 0
                self._disarm()
                self._arm()
        super().on_body(body)

    def on_message_complete(self) -> None:
        self._disarm()
        super().on_message_complete()


def configure(settings: Settings) -> None:
    """Apply the process-wide parts of the settings (call in each server process)."""
    TimedHttpProtocol.read_timeout = settings.request_read_timeout_seconds


def protocols() -> dict[str, Any]:
    """uvicorn's protocol classes: requests with a read deadline, and Engine.IO's WebSocket
    connections served directly (socket/websocket.py)."""
    return {"http": TimedHttpProtocol, "ws": EngineWebSocketProtocol}


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """uvicorn's options for ``inner-circle serve`` (one process or ``--workers``)."""
    configure(settings)
    return {
        "host": settings.host,
        "port": settings.port,
        "log_level": settings.log_level.lower(),
        # X-Forwarded-For/-Proto are believed only from FORWARDED_ALLOW_IPS (127.0.0.1 by default).
        "proxy_headers": True,
        **protocols(),
        "limit_concurrency": settings.limit_concurrency,
        "timeout_keep_alive": settings.keep_alive_timeout_seconds,
        "timeout_graceful_shutdown": 10,
        "log_config": None,  # our handler and format (configure_logging) for uvicorn too
        "access_log": False,  # inner_circle.access writes one line per request instead
        # Browsers offer permessage-deflate; compressing every small frame for every
        # recipient costs more CPU than it saves on a family's messages.
        "ws_per_message_deflate": False,
    }


async def announce_shutdown(sio: Any, timeout: float = 5.0) -> int:
    """Send ``serverShutdown`` to this process's clients and disconnect them; returns how many."""
    sids = [sid for sid, _ in sio.manager.get_participants("/", None)]

    async def bye(sid: str) -> None:
        # ignore_queue: only this process's clients, without a round trip through Redis.
        await sio.emit(
            ServerEvent.SERVER_SHUTDOWN,
            {"reconnectAfterMs": RECONNECT_AFTER_MS},
            to=sid,
            ignore_queue=True,
        )
        await sio.disconnect(sid, ignore_queue=True)

    if sids:
        try:
            await asyncio.wait_for(asyncio.gather(*(bye(s) for s in sids)), timeout)
        except TimeoutError:
            log.warning("shutdown: not every client could be told in %.0f s", timeout)
    return len(sids)


def _socketio_server(app: Any) -> Any:
    """Find the Socket.IO server inside uvicorn's middleware wrappers."""
    while app is not None:
        if hasattr(app, "engineio_server"):
            return app.engineio_server
        app = getattr(app, "app", None)
    return None


class GracefulServer(uvicorn.Server):
    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        for server in self.servers:
            server.close()  # no new connections while clients are told
        sio = _socketio_server(self.config.loaded_app)
        if sio is not None and not self.force_exit:
            told = await announce_shutdown(sio)
            log.info("shutdown: told %d connected client(s) to reconnect", told)
        await super().shutdown(sockets)


def run(app: Any, **options: Any) -> None:
    """``uvicorn.run`` for one process, with :class:`GracefulServer`."""
    GracefulServer(uvicorn.Config(app, **options)).run()
