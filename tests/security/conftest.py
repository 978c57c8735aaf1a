"""Servers with chosen settings (low limits, Redis) for the hardening tests.

Redis is the root conftest's ``redis_url`` and ``redis_prefix``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from inner_circle.core.clock import Clock, utc_now
from tests.support import Family, ThreadedServer, make_settings

StartServer = Callable[..., Awaitable[Family]]


class ManualClock:
    """A server clock the test moves: lock-out waits pass without sleeping."""

    def __init__(self) -> None:
        self._now = utc_now()

    def now(self) -> datetime:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += timedelta(seconds=seconds)


@pytest.fixture
def server_database_url(sqlite_url: str) -> str:
    """The database ``start_server`` uses: SQLite; a module may override this fixture
    (with ``database_url``) to run on PostgreSQL too."""
    return sqlite_url


@pytest_asyncio.fixture
async def start_server(server_database_url: str, tmp_path: Path) -> AsyncIterator[StartServer]:
    """``await start_server(**settings)``: a live server on this test's database
    (``clock=`` a :class:`ManualClock` to move time).

    Several servers may share the database (and Redis), like processes behind one proxy.
    """
    started: list[tuple[ThreadedServer, Family]] = []

    async def start(clock: Clock | None = None, **overrides: Any) -> Family:
        server = ThreadedServer(
            make_settings(server_database_url, tmp_path, **overrides), clock=clock
        )
        await server.start()
        handle = Family(server)
        started.append((server, handle))
        return handle

    yield start
    for server, handle in reversed(started):
        await handle.close()
        await server.stop()
