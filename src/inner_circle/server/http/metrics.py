"""/metrics: Prometheus text format (not in the OpenAPI schema: it is for machines)."""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from inner_circle.core.addresses import is_loopback
from inner_circle.core.errors import Forbidden, Unauthenticated
from inner_circle.server.http.deps import client_host

router = APIRouter(include_in_schema=False)


@router.get("/metrics")
async def metrics(request: Request) -> Response:
    """This process's metrics. With ``INNER_CIRCLE_METRICS_TOKEN`` set, for that bearer from
    anywhere; without it, only to this machine (loopback), so a server without a proxy does
    not publish its traffic figures. Behind a proxy, the client address is the one the
    trusted proxy reports (X-Forwarded-For), so requests through the proxy are not local."""
    token = request.app.state.ctx.settings.metrics_token
    if token:
        given = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(given.encode(), token.encode()):
            raise Unauthenticated("Send Authorization: Bearer <metrics token>")
    elif not is_loopback(client_host(request)):
        raise Forbidden(
            "/metrics answers only on this machine; set INNER_CIRCLE_METRICS_TOKEN to scrape it "
            "from elsewhere"
        )
    body = generate_latest(request.app.state.metrics.registry)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
