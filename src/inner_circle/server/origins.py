"""Which browser origins may open a Socket.IO connection.

Browsers attach ``Origin`` to WebSocket and cross-origin requests; a page on another
site must not be able to drive a member's connection (cross-site WebSocket hijacking).
Allowed: no ``Origin`` at all (native apps, the SDK, the CLI), the server's own origin
(the ``Host`` header with the scheme uvicorn derived, which honours ``X-Forwarded-Proto``
only from a trusted proxy, ``FORWARDED_ALLOW_IPS``), and ``INNER_CIRCLE_CORS_ORIGINS``.
Everything else is refused at the Engine.IO handshake (HTTP 400).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from inner_circle.core.addresses import parse_origin, same_origin

__all__ = ["SocketOrigins"]

log = logging.getLogger(__name__)


class SocketOrigins:
    """``cors_allowed_origins`` for python-engineio: called with the Origin and the request."""

    def __init__(self, configured: Iterable[str]) -> None:
        values = [value.strip() for value in configured if value.strip()]
        self.allow_all = "*" in values
        self.configured = {
            parsed for value in values if (parsed := parse_origin(value)) is not None
        }

    def __call__(self, origin: str | None, environ: dict[str, Any]) -> bool:
        if not origin:
            return True  # engine.io checks only requests that carry an Origin
        if self.allow_all:
            return True
        scope = environ.get("asgi.scope") or {}
        scheme = str(scope.get("scheme", "http"))
        host = environ.get("HTTP_HOST", "")
        if same_origin(origin, scheme, host):
            return True
        if parse_origin(origin) in self.configured:
            return True
        log.debug("socket refused for origin %r (host %r)", origin[:100], host[:100])
        return False
