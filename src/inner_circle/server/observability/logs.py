"""Logging: readable text or JSON lines, each line tagged with its request or event id.

``INNER_CIRCLE_LOG_FORMAT=json`` writes one JSON object a line (``time``, ``level``,
``logger``, ``message``, ``requestId`` or ``eventId``, and ``exception`` when there is
one) for log collectors; the default ``text`` reads well in a terminal or
``journalctl``. The format is a choice of the operator, not of the mode: see
docs/adr/0006-logging.md.

What is never logged: tokens, passwords and message text. Our own log calls only
name ids, routes and codes; the access line names the route *template*
(``/messages/{chat_id}``), not the path; third-party loggers that would print
payloads (SQL parameters, Socket.IO packets) are held at WARNING or above.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = [
    "JsonFormatter",
    "RequestIdMiddleware",
    "configure_logging",
    "event_id",
    "new_id",
    "request_id",
]

request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
event_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("event_id", default=None)

access_log = logging.getLogger("inner_circle.access")
_SAFE_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,64}$")
# Loggers that print request or query payloads at INFO or DEBUG.
_CHATTY = (
    "aiosqlite",
    "asyncpg",
    "sqlalchemy",
    "socketio",
    "engineio",
    "httpcore",
    "httpx",
    "websockets",
    "redis",
    "hpack",
    "multipart",
    "python_multipart",
)
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s%(ids)s: %(message)s"


def new_id() -> str:
    return uuid.uuid4().hex[:16]


class _ContextIds(logging.Filter):
    """Adds the current request id / event id to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        rid, eid = request_id.get(), event_id.get()
        record.request_id = rid
        record.event_id = eid
        record.ids = (f" [req {rid}]" if rid else "") + (f" [evt {eid}]" if eid else "")
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for attr, key in (("request_id", "requestId"), ("event_id", "eventId")):
            value = getattr(record, attr, None)
            if value:
                entry[key] = value
        extra = getattr(record, "fields", None)
        if isinstance(extra, dict):
            entry.update(extra)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure_logging(level: str = "INFO", fmt: str = "text", stream: Any = None) -> None:
    """Set up the root logger once for the process (the CLI's ``serve`` and the ASGI factory)."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.addFilter(_ContextIds())
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    # At INFO, SQLAlchemy prints each statement with its parameters (message text,
    # password hashes); at DEBUG, Socket.IO prints whole packets.
    floor = max(logging.WARNING, root.level)
    for name in _CHATTY:
        logging.getLogger(name).setLevel(floor)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        # uvicorn's own handlers would bypass the format; let records reach the root.
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True


class RequestIdMiddleware:
    """Gives every HTTP request an id (``X-Request-ID``, kept when a proxy sent a sane one),
    puts it on every log line written while the request runs, and writes one access line."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope.get("headers", [])).get(b"x-request-id", b"").decode("latin-1")
        rid = incoming if _SAFE_ID.match(incoming) else new_id()
        token = request_id.set(rid)
        start = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                message["headers"] = [*message.get("headers", []), (b"x-request-id", rid.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            route = getattr(scope.get("route"), "path", None) or "-"
            access_log.info(
                "%s %s %d %.1fms",
                scope.get("method"),
                route,
                status,
                (time.perf_counter() - start) * 1000,
                extra={
                    "fields": {
                        "method": scope.get("method"),
                        "route": route,
                        "status": status,
                        "durationMs": round((time.perf_counter() - start) * 1000, 1),
                    }
                },
            )
            request_id.reset(token)
