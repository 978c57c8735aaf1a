"""Domain errors with stable codes.

Every error a user can cause is an :class:`InnerCircleError` carrying an
:class:`ErrorCode` and a message that is safe to show. The edges translate the
code: ``server/http/errors.py`` to an HTTP status, the socket layer to an
``error`` event or an ``{ok: false}`` acknowledgement, the SDK back to a typed
exception.

    InnerCircleError
    ├── ValidationFailed      VALIDATION_FAILED, WRONG_PASSWORD
    ├── Unauthenticated       UNAUTHENTICATED, INVALID_CREDENTIALS, TOKEN_INVALID
    ├── Forbidden             FORBIDDEN, ADMIN_ONLY, ACCOUNT_DEACTIVATED
    ├── NotFound              NOT_FOUND (hidden objects read as not found too)
    ├── Conflict              USERNAME_TAKEN, DISPLAY_NAME_TAKEN, CALL_BUSY,
    │                         CALL_NOT_RINGING, CALL_ENDED
    ├── InvalidInvitation     INVITE_INVALID, INVITE_USED, INVITE_EXPIRED, INVITE_REVOKED
    ├── RateLimited           RATE_LIMITED
    └── Unavailable           UNAVAILABLE (the database is unreachable)
"""

from __future__ import annotations

import math
from enum import StrEnum
from typing import Any

__all__ = [
    "Conflict",
    "ErrorCode",
    "Forbidden",
    "InnerCircleError",
    "InvalidInvitation",
    "NotFound",
    "RateLimited",
    "Unauthenticated",
    "Unavailable",
    "ValidationFailed",
]


class ErrorCode(StrEnum):
    VALIDATION_FAILED = "VALIDATION_FAILED"
    WRONG_PASSWORD = "WRONG_PASSWORD"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    INVALID_CREDENTIALS = "INVALID_CREDENTIALS"
    TOKEN_INVALID = "TOKEN_INVALID"
    FORBIDDEN = "FORBIDDEN"
    ADMIN_ONLY = "ADMIN_ONLY"
    ACCOUNT_DEACTIVATED = "ACCOUNT_DEACTIVATED"
    NOT_FOUND = "NOT_FOUND"
    USERNAME_TAKEN = "USERNAME_TAKEN"
    DISPLAY_NAME_TAKEN = "DISPLAY_NAME_TAKEN"
    INVITE_INVALID = "INVITE_INVALID"
    INVITE_USED = "INVITE_USED"
    INVITE_EXPIRED = "INVITE_EXPIRED"
    INVITE_REVOKED = "INVITE_REVOKED"
    CALL_BUSY = "CALL_BUSY"
    CALL_NOT_RINGING = "CALL_NOT_RINGING"
    CALL_ENDED = "CALL_ENDED"
    RATE_LIMITED = "RATE_LIMITED"
    PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"
    UNAVAILABLE = "UNAVAILABLE"
    INTERNAL = "INTERNAL"


class InnerCircleError(Exception):
    """Base of every error a caller may see; ``message`` is safe to show."""

    default_code: ErrorCode = ErrorCode.INTERNAL

    def __init__(
        self,
        message: str,
        code: ErrorCode | None = None,
        details: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.details = details

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": str(self.code), "message": self.message}
        if self.details:
            body["details"] = self.details
        return body


class ValidationFailed(InnerCircleError):
    default_code = ErrorCode.VALIDATION_FAILED


class Unauthenticated(InnerCircleError):
    default_code = ErrorCode.UNAUTHENTICATED


class Forbidden(InnerCircleError):
    default_code = ErrorCode.FORBIDDEN


class NotFound(InnerCircleError):
    default_code = ErrorCode.NOT_FOUND


class Conflict(InnerCircleError):
    default_code = ErrorCode.USERNAME_TAKEN


class InvalidInvitation(InnerCircleError):
    default_code = ErrorCode.INVITE_INVALID


class RateLimited(InnerCircleError):
    default_code = ErrorCode.RATE_LIMITED

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after

    def to_dict(self) -> dict[str, Any]:
        # Socket clients get what HTTP clients read from Retry-After (whole seconds).
        return {**super().to_dict(), "retryAfter": max(1, math.ceil(self.retry_after))}


class Unavailable(InnerCircleError):
    default_code = ErrorCode.UNAVAILABLE
