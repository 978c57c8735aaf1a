"""Health, readiness and the web client's entry points."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse

from inner_circle.server.observability.health import readiness

router = APIRouter(tags=["system"])


@router.get("/healthz", operation_id="health", include_in_schema=True)
async def health() -> dict[str, str]:
    """The process is alive."""
    return {"status": "ok"}


@router.get("/readyz", operation_id="ready")
async def ready(request: Request) -> JSONResponse:
    """The database answers with its schema at the newest migration, and Redis answers when
    configured (503 otherwise): ``{status, database, migrations, redis}``."""
    ok, checks = await readiness(request.app.state.engine, request.app.state.redis)
    status = "ready" if ok else "unavailable"
    return JSONResponse({"status": status, **checks}, status_code=200 if ok else 503)


def web_client_router(static_dir: Path) -> APIRouter:
    """``/`` and ``/join/<code>`` serve the web client's page; its files are mounted separately."""
    pages = APIRouter(include_in_schema=False)
    index = static_dir / "index.html"

    async def page() -> FileResponse | JSONResponse:
        if not index.exists():
            return JSONResponse(
                {
                    "message": "The web client is not built: run scripts/install (npm run build in web/)"
                },
                status_code=404,
            )
        return FileResponse(index, headers={"Cache-Control": "no-cache"})

    pages.add_api_route("/", page, methods=["GET", "HEAD"], response_model=None)
    pages.add_api_route("/join/{code}", page, methods=["GET", "HEAD"], response_model=None)
    return pages
