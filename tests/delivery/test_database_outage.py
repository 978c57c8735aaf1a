"""PostgreSQL stops (``pg_ctl stop -m immediate``) for ~10 s under traffic.

A private cluster, never the machine's shared one. While it is down, sends are
answered, with ``UNAVAILABLE`` error acks (not silence, not a crash); ``/healthz``
stays 200 while ``/readyz`` is 503. When it is back, the same server process
serves again without a restart, and nothing acknowledged is missing.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from inner_circle.sdk import ServerUnavailable
from tests.delivery.checks import (
    assert_acked_stored_once,
    assert_no_gaps_or_doubles,
    full_history,
    wait_converged,
)
from tests.delivery.harness import PrivatePostgres, ServerProcess, wait_until
from tests.delivery.resilient import ResilientClient
from tests.support import PASSWORD, Family

OUTAGE_SECONDS = 10


async def test_database_outage_under_traffic(
    outage_family: Family, private_pg: PrivatePostgres
) -> None:
    server: ServerProcess = outage_family.server
    pid = server.process.pid if server.process else None
    members = [await outage_family.member(f"out{i}") for i in range(3)]
    probe = await outage_family.member("probe", connect=True)
    chat = await probe.family_chat()
    clients = [ResilientClient(m, PASSWORD, seed=i) for i, m in enumerate(members)]
    for client in clients:
        await client.start()

    stop = asyncio.Event()
    acked = 0
    warmed_up = asyncio.Event()

    async def stream(client: ResilientClient) -> None:
        nonlocal acked
        n = 0
        while not stop.is_set():
            await client.send(chat.id, f"{client.name} #{n}")
            n += 1
            acked += 1
            if acked >= 30:
                warmed_up.set()

    streams = asyncio.gather(*(stream(c) for c in clients))
    try:
        await asyncio.wait_for(warmed_up.wait(), 30)
        await asyncio.to_thread(private_pg.stop, "immediate")
        down_at = time.monotonic()

        # While it is down, everything keeps answering: probes through the whole outage.
        refusals = 0
        while time.monotonic() - down_at < OUTAGE_SECONDS:
            assert await server.astatus("/healthz") == 200
            assert await server.astatus("/readyz") == 503
            with pytest.raises(ServerUnavailable) as refused:
                await probe.send_message(chat.id, f"during outage {refusals}")
            assert refused.value.code == "UNAVAILABLE"
            refusals += 1
        assert all(c.stats.errors["UNAVAILABLE"] > 0 for c in clients), [c.stats for c in clients]
        acked_during = acked

        await asyncio.to_thread(private_pg.start)

        async def ready() -> bool:
            return await server.astatus("/readyz") == 200

        await wait_until(ready, timeout=30, what="/readyz 200 after the database came back")
        # The same connection of the probe sends again; the traffic resumes.
        await probe.send_message(chat.id, "after the outage")
        await wait_until(lambda: acked >= acked_during + 30, timeout=30, what="traffic resumed")
    finally:
        stop.set()
    await asyncio.wait_for(streams, 30)

    assert server.process is not None and server.process.pid == pid and server.starts == 1
    assert server.running
    for client in clients:
        assert set(client.stats.errors) <= {"UNAVAILABLE"}, client.stats.errors
        assert not client.outbox
    history = {chat.id: await full_history(probe, chat.id)}
    assert_no_gaps_or_doubles(history[chat.id])
    assert assert_acked_stored_once(clients, history) == acked
    assert [m.content for m in history[chat.id] if m.sender_id == probe.user_id] == [
        "after the outage"
    ]
    await wait_converged(clients, history)
    for client in clients:
        await client.close()
