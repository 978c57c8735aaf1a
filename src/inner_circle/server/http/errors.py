"""The one table from error code to HTTP status, and the seed-style error body."""

from __future__ import annotations

import logging
import math
from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from inner_circle.core.errors import ErrorCode, InnerCircleError, RateLimited

__all__ = ["STATUS_BY_CODE", "error_response", "install_error_handlers"]

log = logging.getLogger(__name__)

STATUS_BY_CODE: dict[ErrorCode, int] = {
    ErrorCode.VALIDATION_FAILED: 400,
    # Not 401: a signed-in member typed the wrong current password; clients must not
    # take it for an expired session (refresh, retry, sign out).
    ErrorCode.WRONG_PASSWORD: 400,
    ErrorCode.INVITE_INVALID: 400,
    ErrorCode.INVITE_USED: 400,
    ErrorCode.INVITE_EXPIRED: 400,
    ErrorCode.INVITE_REVOKED: 400,
    ErrorCode.UNAUTHENTICATED: 401,
    ErrorCode.INVALID_CREDENTIALS: 401,
    ErrorCode.TOKEN_INVALID: 401,
    ErrorCode.FORBIDDEN: 403,
    ErrorCode.ADMIN_ONLY: 403,
    ErrorCode.ACCOUNT_DEACTIVATED: 403,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.USERNAME_TAKEN: 409,
    ErrorCode.DISPLAY_NAME_TAKEN: 409,
    ErrorCode.PAYLOAD_TOO_LARGE: 413,
    ErrorCode.RATE_LIMITED: 429,
    ErrorCode.INTERNAL: 500,
    ErrorCode.UNAVAILABLE: 503,
}


def error_response(
    status: int, code: str, message: str, details: object | None = None
) -> JSONResponse:
    body: dict[str, object] = {
        "statusCode": status,
        "error": HTTPStatus(status).phrase,
        "message": message,
        "code": code,
    }
    if details:
        body["details"] = details
    return JSONResponse(body, status_code=status)


def _validation_details(exc: RequestValidationError) -> list[dict[str, str]]:
    details = []
    for error in exc.errors():
        location = [
            str(part) for part in error.get("loc", ()) if part not in ("body", "query", "path")
        ]
        details.append(
            {"field": ".".join(location) or "body", "message": str(error.get("msg", ""))}
        )
    return details


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(InnerCircleError)
    async def _domain(request: Request, exc: InnerCircleError) -> JSONResponse:
        status = STATUS_BY_CODE.get(exc.code, 400)
        response = error_response(status, str(exc.code), exc.message, exc.details)
        if isinstance(exc, RateLimited):
            response.headers["Retry-After"] = str(max(1, math.ceil(exc.retry_after)))
        return response

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        details = _validation_details(exc)
        summary = "; ".join(f"{d['field']}: {d['message']}" for d in details[:5])
        return error_response(
            400, ErrorCode.VALIDATION_FAILED, summary or "Invalid request", details
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {
            401: ErrorCode.UNAUTHENTICATED,
            404: ErrorCode.NOT_FOUND,
            405: ErrorCode.VALIDATION_FAILED,
        }
        response = error_response(
            exc.status_code,
            str(code.get(exc.status_code, ErrorCode.VALIDATION_FAILED)),
            str(exc.detail),
        )
        response.headers.update(exc.headers or {})  # e.g. Allow on 405 (RFC 9110)
        return response

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return error_response(500, ErrorCode.INTERNAL, "Internal server error")
