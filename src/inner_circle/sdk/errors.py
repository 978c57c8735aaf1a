"""Errors the SDK raises, one class per family of server error codes.

    InnerCircleAPIError          any error answer; ``.code``, ``.message``, ``.status``
    ├── BadRequest               VALIDATION_FAILED, WRONG_PASSWORD, INVITE_* (400)
    ├── AuthenticationError      UNAUTHENTICATED, INVALID_CREDENTIALS, TOKEN_INVALID (401)
    ├── PermissionDenied         FORBIDDEN, ADMIN_ONLY, ACCOUNT_DEACTIVATED (403)
    ├── NotFoundError            NOT_FOUND (404)
    ├── ConflictError            USERNAME_TAKEN, DISPLAY_NAME_TAKEN (409)
    ├── RateLimitedError         RATE_LIMITED (429)
    └── ServerUnavailable        UNAVAILABLE, INTERNAL (5xx)
    AckTimeout                   the server did not acknowledge a socket event in time

Clients switch on ``code``, never on the message text.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "AckTimeout",
    "AuthenticationError",
    "BadRequest",
    "ConflictError",
    "InnerCircleAPIError",
    "NotFoundError",
    "PermissionDenied",
    "RateLimitedError",
    "ServerUnavailable",
    "error_from",
]


class InnerCircleAPIError(Exception):
    def __init__(
        self, code: str, message: str, status: int | None = None, body: Any = None
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status
        self.body = body


class BadRequest(InnerCircleAPIError):
    pass


class AuthenticationError(InnerCircleAPIError):
    pass


class PermissionDenied(InnerCircleAPIError):
    pass


class NotFoundError(InnerCircleAPIError):
    pass


class ConflictError(InnerCircleAPIError):
    pass


class RateLimitedError(InnerCircleAPIError):
    pass


class ServerUnavailable(InnerCircleAPIError):
    pass


class AckTimeout(Exception):
    """No acknowledgement arrived; the request may or may not have been applied."""


_BY_CODE: dict[str, type[InnerCircleAPIError]] = {
    "VALIDATION_FAILED": BadRequest,
    "WRONG_PASSWORD": BadRequest,
    "INVITE_INVALID": BadRequest,
    "INVITE_USED": BadRequest,
    "INVITE_EXPIRED": BadRequest,
    "INVITE_REVOKED": BadRequest,
    "PAYLOAD_TOO_LARGE": BadRequest,
    "UNAUTHENTICATED": AuthenticationError,
    "INVALID_CREDENTIALS": AuthenticationError,
    "TOKEN_INVALID": AuthenticationError,
    "FORBIDDEN": PermissionDenied,
    "ADMIN_ONLY": PermissionDenied,
    "ACCOUNT_DEACTIVATED": PermissionDenied,
    "NOT_FOUND": NotFoundError,
    "USERNAME_TAKEN": ConflictError,
    "DISPLAY_NAME_TAKEN": ConflictError,
    "RATE_LIMITED": RateLimitedError,
    "UNAVAILABLE": ServerUnavailable,
    "INTERNAL": ServerUnavailable,
}


def error_from(
    code: str, message: str, status: int | None = None, body: Any = None
) -> InnerCircleAPIError:
    return _BY_CODE.get(code, InnerCircleAPIError)(code, message, status, body)
