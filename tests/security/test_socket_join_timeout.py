"""The Engine.IO join timeout closes sessions that never ask to join the namespace, not the
ones a busy server is still letting in (every device reconnecting after a restart).

PostgreSQL: a lock held by another connection keeps the server's sign-in check of the
joining client waiting, for longer than the timeout, as a long queue of connects would.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator

import asyncpg
import pytest

from tests.support import POSTGRES, Family

StartFamily = Callable[..., Awaitable[Family]]
TIMEOUT = 0.5


@pytest.fixture
def server_database_url(postgres_template: str) -> Iterator[str]:
    url = POSTGRES.create_database("ic_join", template=postgres_template)
    yield url
    POSTGRES.drop_database(url)


async def waited_on_a_lock(connection: asyncpg.Connection, seconds: float) -> None:
    """Until a query of this database has waited on a lock for ``seconds`` (PostgreSQL's own
    view of its waits, asked every 50 ms)."""
    query = (
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
        " AND wait_event_type = 'Lock'"
        " AND clock_timestamp() - query_start > make_interval(secs => $1)"
    )
    for _ in range(400):
        if await connection.fetchval(query, seconds):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"no query waited on the lock for {seconds} s")


async def test_a_join_answered_after_the_timeout_still_connects(
    start_server: StartFamily, server_database_url: str
) -> None:
    family = await start_server(socket_connect_timeout_seconds=TIMEOUT)
    anna = await family.member("anna")
    ben = await family.member("ben", connect=True)
    blocker = await asyncpg.connect(server_database_url.replace("+asyncpg", "", 1))
    try:
        holding = blocker.transaction()
        await holding.start()
        await blocker.execute("LOCK TABLE users IN ACCESS EXCLUSIVE MODE")
        joining = asyncio.create_task(anna.connect())
        await waited_on_a_lock(blocker, 3 * TIMEOUT)
        await holding.rollback()
    finally:
        await blocker.close()
    await asyncio.wait_for(joining, 10)
    assert (await anna.call("getChats"))["ok"]
    # Connected for good: the family is told she is online.
    await ben.inbox.wait_for("userConnected", lambda user_id: user_id == str(anna.user_id))
