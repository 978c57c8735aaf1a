"""Readiness: may a load balancer send this process traffic?"""

from __future__ import annotations

import asyncio
import functools
from typing import Any

from sqlalchemy import text

__all__ = ["readiness"]

CHECK_TIMEOUT = 3.0


@functools.cache
def _head() -> str:
    from inner_circle.server.db.migrate import head_revision

    return head_revision()


async def readiness(engine: Any, redis: Any | None) -> tuple[bool, dict[str, str]]:
    """Check the database answers, its schema is at the newest migration, and Redis
    answers when configured. Returns (ready, a status word per part)."""
    checks = {"database": "ok", "migrations": "ok", "redis": "disabled"}
    try:
        async with asyncio.timeout(CHECK_TIMEOUT), engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
            try:
                current = (
                    await connection.execute(text("SELECT version_num FROM alembic_version"))
                ).scalar_one_or_none()
            except Exception:  # the table is missing: never migrated
                current = None
            if current != await asyncio.to_thread(_head):
                checks["migrations"] = "behind" if current else "missing"
    except Exception:  # any failure means not ready
        checks["database"] = "unreachable"
        checks["migrations"] = "unknown"
    if redis is not None:
        try:
            async with asyncio.timeout(CHECK_TIMEOUT):
                await redis.ping()
            checks["redis"] = "ok"
        except Exception:  # any failure means not ready
            checks["redis"] = "unreachable"
    ready = checks["database"] == "ok" and checks["migrations"] == "ok"
    return ready and checks["redis"] in ("ok", "disabled"), checks
