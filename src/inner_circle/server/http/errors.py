"""The one table from error code to HTTP status, and the seed-style error body."""

from __future__ import annotations

import logging
import math
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from inner_circle.core.errors import ErrorCode, InnerCircleError, RateLimited

__all__ = ["STATUS_BY_CODE", "error_response", "install_error_handlers", "install_openapi"]

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
    ErrorCode.CALL_BUSY: 409,
    ErrorCode.CALL_NOT_RINGING: 409,
    ErrorCode.CALL_ENDED: 409,
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


ERROR_SCHEMA: dict[str, Any] = {
    "title": "Error",
    "type": "object",
    "required": ["statusCode", "error", "message", "code"],
    "properties": {
        "statusCode": {"type": "integer"},
        "error": {"type": "string"},
        "message": {"type": "string"},
        "code": {"type": "string"},
        "details": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
            },
        },
    },
}


def install_openapi(app: FastAPI) -> None:
    """Document what the handlers above answer: an invalid request is a 400 with the error
    body (code ``VALIDATION_FAILED``), never FastAPI's default 422 ``HTTPValidationError``."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        bad_request = {
            "description": "Invalid request (code VALIDATION_FAILED)",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                responses = operation.get("responses", {})
                if responses.pop("422", None) is not None:
                    responses.setdefault("400", bad_request)
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components.pop("HTTPValidationError", None)
        components.pop("ValidationError", None)
        components["Error"] = ERROR_SCHEMA
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
