"""How the HTTP server itself is run: uvicorn's options and a request read timeout.

Without a reverse proxy in front, uvicorn alone faces the internet. It closes idle
keep-alive connections, but it waits for a request's headers and body as long as a
client keeps the connection open: a few hundred slow clients ("slowloris") would hold
every connection the process has. :class:`TimedHttpProtocol` closes a connection whose
request has not fully arrived ``request_read_timeout_seconds`` after it began (or after
the connection opened). ``limit_concurrency`` bounds connections and running requests
per process; beyond it uvicorn answers 503 instead of running out of file descriptors.

``inner-circle serve`` passes :func:`uvicorn_options`; with ``--workers`` each worker
builds the app with ``inner_circle.server.asgi:create``, which calls :func:`configure`.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, ClassVar

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from inner_circle.server.settings import Settings

__all__ = ["TimedHttpProtocol", "configure", "uvicorn_options"]

log = logging.getLogger(__name__)


class TimedHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a deadline for receiving each whole request.

    The deadline is process-wide (a class attribute) because uvicorn builds protocol
    instances itself and passes worker processes only its own configuration.
    """

    read_timeout: ClassVar[float] = 10.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._read_deadline: asyncio.TimerHandle | None = None

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
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._disarm()
        super().on_message_complete()


def configure(settings: Settings) -> None:
    """Apply the process-wide parts of the settings (call in each server process)."""
    TimedHttpProtocol.read_timeout = settings.request_read_timeout_seconds


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """uvicorn's options for ``inner-circle serve`` (one process or ``--workers``)."""
    configure(settings)
    return {
        "host": settings.host,
        "port": settings.port,
        "log_level": settings.log_level.lower(),
        # X-Forwarded-For/-Proto are believed only from FORWARDED_ALLOW_IPS (127.0.0.1 by default).
        "proxy_headers": True,
        "http": TimedHttpProtocol,
        "limit_concurrency": settings.limit_concurrency,
        "timeout_keep_alive": settings.keep_alive_timeout_seconds,
        "timeout_graceful_shutdown": 10,
        "log_config": None,  # our handler and format (configure_logging) for uvicorn too
        "access_log": False,  # inner_circle.access writes one line per request instead
        # Browsers offer permessage-deflate; compressing every small frame for every
        # recipient costs more CPU than it saves on a family's messages.
        "ws_per_message_deflate": False,
    }
