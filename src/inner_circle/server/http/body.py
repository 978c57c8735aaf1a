"""A bound on request bodies: larger ones are refused with 413 before any handler reads them."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from inner_circle.core.errors import ErrorCode
from inner_circle.server.limits.text import NUL_MESSAGE, json_has_nul

__all__ = ["BodySizeLimitMiddleware"]

# A refused body is still read up to this much, so that a client which writes its whole
# request before reading the answer gets the 413 instead of a reset connection.
DRAIN_MAX = 1024 * 1024


async def _drain(receive: Receive, already: int) -> None:
    size = already
    while size <= DRAIN_MAX:
        message = await receive()
        if message["type"] != "http.request":
            return
        size += len(message.get("body", b""))
        if not message.get("more_body", False):
            return


def _streamed(scope: Scope) -> bool:
    """tus PATCH bodies (``/uploads/<id>``) are binary and streamed to disk by their route,
    which bounds them by the upload's declared length (docs/media.md)."""
    return scope.get("method") == "PATCH" and scope.get("path", "").startswith("/uploads/")


class BodySizeLimitMiddleware:
    """Refuse request bodies over ``max_bytes`` with a ``PAYLOAD_TOO_LARGE`` JSON error,
    and text holding NUL characters (in the body, path or query) with ``VALIDATION_FAILED``.

    A declared ``Content-Length`` is checked up front; a chunked body is read (up to
    the bound) before the app runs and then replayed, so a handler never sees half a
    body. Socket.IO traffic does not pass here: engine.io bounds it by
    ``max_http_buffer_size``.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:  # 0: no size bound
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length" and not _streamed(scope):
                try:
                    declared = int(value)
                except ValueError:
                    declared = 0
                if 0 < self.max_bytes < declared:
                    if declared <= DRAIN_MAX:
                        await _drain(receive, 0)
                    await self._refuse(send)
                    return
        if "\x00" in scope.get("path", "") or b"%00" in scope.get("query_string", b""):
            await self._refuse(send, 400, ErrorCode.VALIDATION_FAILED, NUL_MESSAGE)
            return
        if scope.get("method") in ("GET", "HEAD", "OPTIONS") or _streamed(scope):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if 0 < self.max_bytes < size:
                if message.get("more_body", False):
                    await _drain(receive, size)
                await self._refuse(send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if json_has_nul(body):
            await self._refuse(send, 400, ErrorCode.VALIDATION_FAILED, NUL_MESSAGE)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(
        self,
        send: Send,
        status: int = 413,
        code: ErrorCode = ErrorCode.PAYLOAD_TOO_LARGE,
        message: str | None = None,
    ) -> None:
        from inner_circle.server.http.errors import error_response

        message = message or f"The request body is larger than {self.max_bytes} bytes"
        response = error_response(status, str(code), message)
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [*response.raw_headers, (b"connection", b"close")],
            }
        )
        await send({"type": "http.response.body", "body": response.body})
