"""Security headers on every HTTP response, and no path tricks around them.

Every answer carries a Content-Security-Policy; ``connect-src`` names only this
server (``'self'`` and WebSocket to the same host). The interactive API docs, when
turned on (``INNER_CIRCLE_API_DOCS``), load Swagger UI / ReDoc from their CDN, so those
exact pages get a policy that allows it; nothing else does. Paths that only a crafted
request has (an encoded ``/`` or ``\\``, ``.``/``..`` segments, which the static files
would resolve to the web client's page) are answered 404.
"""

from __future__ import annotations

from collections.abc import Iterable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from inner_circle.core.addresses import valid_host
from inner_circle.server.http.errors import error_response

__all__ = ["CSP", "DOCS_CSP", "SecurityHeadersMiddleware", "content_security_policy"]

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    # blob: media: the recorder's preview of a voice message before it is sent.
    "media-src 'self' blob:; "
    "connect-src 'self'{ws}; manifest-src 'self'; worker-src 'self'; font-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'"
)
# Swagger UI and ReDoc: their scripts and styles come from a CDN, plus an inline start-up script.
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' https:; "
    "style-src 'self' 'unsafe-inline' https:; img-src 'self' data: https:; "
    "connect-src 'self'; worker-src 'self' blob:; font-src 'self' https:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'"
)
_ENCODED_SEPARATORS = (b"%2f", b"%5c")


def content_security_policy(host: str | None) -> str:
    """The policy for an answer to a request with this ``Host``: ``connect-src`` allows
    the same origin and WebSocket to the same host only (older browsers do not count
    ``ws:``/``wss:`` as ``'self'``)."""
    ws = f" ws://{host} wss://{host}" if host and valid_host(host) else ""
    return CSP.format(ws=ws)


def crafted_path(scope: Scope) -> bool:
    """True for a path no browser sends for a real resource: an encoded slash or backslash,
    a backslash, or a ``.``/``..`` segment (clients resolve those before sending)."""
    raw = scope.get("raw_path") or scope["path"].encode("utf-8", "surrogateescape")
    if any(marker in raw.lower() for marker in _ENCODED_SEPARATORS):
        return True
    path: str = scope["path"]
    return "\\" in path or any(segment in (".", "..") for segment in path.split("/"))


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp, *, docs_paths: Iterable[str] = ()) -> None:
        self.app = app
        self.docs_paths = frozenset(docs_paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        https = scope.get("scheme") == "https"
        if scope["path"] in self.docs_paths:
            policy = DOCS_CSP
        else:
            host = next((v for k, v in scope["headers"] if k == b"host"), b"")
            policy = content_security_policy(host.decode("latin-1"))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.append((b"x-content-type-options", b"nosniff"))
                headers.append((b"referrer-policy", b"no-referrer"))
                headers.append((b"x-frame-options", b"DENY"))
                if not any(k == b"content-security-policy" for k, _ in headers):
                    # A route's own (stricter) policy stands: media downloads are sandboxed.
                    headers.append((b"content-security-policy", policy.encode()))
                if https:
                    headers.append((b"strict-transport-security", b"max-age=31536000"))
                message["headers"] = headers
            await send(message)

        if crafted_path(scope):
            response = error_response(404, "NOT_FOUND", "Not found")
            await response(scope, receive, send_with_headers)
            return
        await self.app(scope, receive, send_with_headers)
