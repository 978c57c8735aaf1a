"""kill -9 the server under a steady stream of sends from several clients (PostgreSQL).

The clients keep unacknowledged sends in their outbox and send them again, with the
same ``clientMessageId``, once they are back on the restarted server. Afterwards every
acknowledged message is stored exactly once, and every client's own history, built
only from live events and its catch-up from its stored cursor, equals the server's.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

import pytest

from tests.delivery.checks import (
    assert_acked_stored_once,
    assert_no_gaps_or_doubles,
    full_history,
    wait_converged,
)
from tests.delivery.harness import ServerProcess
from tests.delivery.resilient import ResilientClient
from tests.support import PASSWORD, Family

PER_CLIENT = 80
IN_FLIGHT = 3  # sends each client keeps open at once


class PhaseLog:
    """How long each phase of a test took, for the message of a failure."""

    def __init__(self) -> None:
        self.took: list[tuple[str, float | None]] = []

    @contextlib.asynccontextmanager
    async def __call__(self, name: str) -> AsyncIterator[None]:
        started = time.monotonic()
        self.took.append((name, None))  # None: still running (when a failure prints it)
        yield
        self.took[-1] = (name, round(time.monotonic() - started, 2))

    def __repr__(self) -> str:
        return ", ".join(
            f"{name}: {'unfinished' if s is None else f'{s} s'}" for name, s in self.took
        )


# The phases' own timeouts add up to more than the suite's default 120 s; a slow phase
# should fail with its own name (and the clients' state), not with pytest's timeout.
@pytest.mark.timeout(360)
async def test_kill_9_under_load_loses_and_doubles_nothing(crash_family: Family) -> None:
    server: ServerProcess = crash_family.server
    members = [await crash_family.member(f"crash{i}") for i in range(4)]
    observer = members[0]
    family_chat = await observer.family_chat()
    group = await observer.create_group("Kitchen", [members[1].user_id, members[2].user_id])
    clients = [ResilientClient(m, PASSWORD, seed=i) for i, m in enumerate(members)]
    for client in clients:
        await client.start()

    acked = 0
    milestones = {PER_CLIENT: asyncio.Event(), 2 * PER_CLIENT: asyncio.Event()}

    async def stream(client: ResilientClient, index: int) -> None:
        nonlocal acked
        chats = [family_chat.id, group.id] if index < 3 else [family_chat.id]
        slots = asyncio.Semaphore(IN_FLIGHT)

        async def one(n: int) -> None:
            nonlocal acked
            async with slots:
                await client.send(chats[n % len(chats)], f"{client.name} #{n}")
            acked += 1
            for mark, reached in milestones.items():
                if acked >= mark:
                    reached.set()

        await asyncio.gather(*(one(n) for n in range(PER_CLIENT)))

    streams = asyncio.gather(*(stream(c, i) for i, c in enumerate(clients)))
    phases = PhaseLog()
    try:
        for mark, reached in milestones.items():
            async with phases(f"{mark} acks"):
                await asyncio.wait_for(reached.wait(), 30)
            in_flight = sum(len(c.outbox) for c in clients)
            server.kill()  # mid-stream: sends are waiting for their acks right now
            assert in_flight > 0, f"nothing was in flight at the kill after {mark} acks"
            async with phases(f"restart {server.kills}"):
                await server.astart()
            # Every client is back before the next kill (or the end), so each one lives
            # through both: on a loaded machine a client still in its backoff missed one.
            async with phases(f"reconnect {server.kills}"):
                await asyncio.gather(
                    *(
                        c.wait_until(lambda c=c, k=server.kills: c.stats.connects > k)
                        for c in clients
                    )
                )
        async with phases("the rest acked"):
            await asyncio.wait_for(streams, 45)
    finally:
        streams.cancel()
        print(phases, [c.stats for c in clients], [len(c.outbox) for c in clients])

    assert server.kills == 2
    assert all(not c.outbox for c in clients)
    assert sum(c.stats.resends for c in clients) > 0, "no send was retried"
    assert all(c.stats.connects >= 3 for c in clients), [c.stats for c in clients]

    history = {chat: await full_history(observer, chat) for chat in (family_chat.id, group.id)}
    for messages in history.values():
        assert_no_gaps_or_doubles(messages)
    assert assert_acked_stored_once(clients, history) == 4 * PER_CLIENT
    assert sum(len(h) for h in history.values()) == 4 * PER_CLIENT  # nothing unacked slipped in
    await wait_converged(clients, history)
    assert all(c.stats.sync_anomalies == 0 for c in clients)
    for client in clients:
        await client.close()


async def test_restart_with_unknown_cursor_starts_fresh(crash_family: Family) -> None:
    """A cursor the server never issued (a restored backup) gets ``reset``; the client
    starts fresh and still ends with the whole history."""
    anna = await crash_family.member("anna")
    chat = await anna.family_chat()
    client = ResilientClient(anna, PASSWORD)
    await client.start()
    sent = [await client.send(chat.id, f"before {n}") for n in range(5)]
    await client.go_offline()
    client.cursor = 10**9
    client.messages.clear()
    await client.start()
    assert client.stats.fresh_starts == 2
    assert [m.id for m in client.history(chat.id)] == [m.id for m in sent]
    await client.close()
