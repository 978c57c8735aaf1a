"""/metrics: Prometheus text format (not in the OpenAPI schema: it is for machines)."""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from inner_circle.core.errors import Unauthenticated

router = APIRouter(include_in_schema=False)


@router.get("/metrics")
async def metrics(request: Request) -> Response:
    """This process's metrics; with ``INNER_CIRCLE_METRICS_TOKEN`` set, only for that bearer."""
    token = request.app.state.ctx.settings.metrics_token
    if token:
        given = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(given.encode(), token.encode()):
            raise Unauthenticated("Send Authorization: Bearer <metrics token>")
    body = generate_latest(request.app.state.metrics.registry)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
