"""The ASGI app for process managers, built from the environment in each process.

    uvicorn --factory inner_circle.server.asgi:create --workers 4
    inner-circle serve --workers 4          (the same, with the CLI's checks)

Every worker reads its settings from ``INNER_CIRCLE_*`` (nothing is shared in
memory), so several workers need PostgreSQL and Redis: Socket.IO fan-out and
presence go through Redis, and each worker's connections live only in it.
Behind several workers, clients must use the WebSocket transport, or a proxy
with sticky sessions (``deploy/nginx-multi.conf``) for long-polling.
"""

from __future__ import annotations

from typing import Any

__all__ = ["create"]


def create() -> Any:
    """``create_app(load_settings())``: uvicorn calls this in each worker process."""
    from inner_circle.server.app import create_app
    from inner_circle.server.observability.logs import configure_logging
    from inner_circle.server.runtime import tune_gc
    from inner_circle.server.serving import configure
    from inner_circle.server.settings import load_settings

    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format)
    configure(settings)  # this worker's request read timeout
    app = create_app(settings)
    tune_gc()
    return app
