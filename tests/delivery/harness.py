"""What the delivery tests add to the harness: their server settings, and waiting.

The processes themselves (the server, a private PostgreSQL) are the top-level
``harness`` package's, shared with every other test and the benchmark; this module
keeps the names the delivery tests and the soak run import.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from harness import PrivatePostgres, ServerGroup
from tests.support import process_server

__all__ = ["PrivatePostgres", "ServerProcess", "delivery_server", "wait_until"]

ServerProcess = ServerGroup  # the name the delivery tests use for the server they break
JWT_SECRET = "delivery-tests-" + "s" * 40
DELIVERY_ENV = {
    "INNER_CIRCLE_JWT_SECRET": JWT_SECRET,
    "INNER_CIRCLE_LIMIT_MESSAGE_BURST": "100000",
    "INNER_CIRCLE_LIMIT_MESSAGE_PER_SECOND": "100000",
    "INNER_CIRCLE_LOG_LEVEL": "WARNING",
}


def delivery_server(database_url: str, data_dir: Path) -> ServerGroup:
    """``inner-circle serve`` on ``database_url`` (not started), logging to
    ``data_dir/server.log``; it can be killed and started again on the same port."""
    return process_server(data_dir, database=database_url, env=DELIVERY_ENV)


async def wait_until(
    condition: Callable[[], Awaitable[bool]] | Callable[[], bool],
    *,
    timeout: float,
    interval: float = 0.05,
    what: str = "condition",
) -> None:
    """Poll ``condition`` until it is true; TimeoutError after ``timeout`` seconds.

    For states that announce themselves with no event (a port answering, a process
    gone); everything that has an event is awaited on the event instead.
    """
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if not isinstance(result, bool):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not reached within {timeout} s")
        await asyncio.sleep(interval)  # polling a condition, bounded by the deadline
