"""Shared presence in Redis: counts across processes, expiry of a dead process's connections."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest_asyncio

from inner_circle.server.realtime.presence import RedisPresence


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest_asyncio.fixture
async def processes(
    redis_url: str, redis_prefix: str
) -> AsyncIterator[tuple[RedisPresence, RedisPresence, FakeClock]]:
    clock = FakeClock()
    prefix = f"{redis_prefix}:"
    a = RedisPresence.from_url(redis_url, prefix=prefix, ttl=60, clock=clock)
    b = RedisPresence.from_url(redis_url, prefix=prefix, ttl=60, clock=clock)
    try:
        yield a, b, clock
    finally:
        await a.close()
        await b.close()


async def test_a_member_is_online_while_any_process_holds_a_connection(
    processes: tuple[RedisPresence, RedisPresence, FakeClock],
) -> None:
    a, b, _ = processes
    anna = uuid.uuid4()
    assert await a.connect(anna, "s1") is True  # first connection: came online
    assert await b.connect(anna, "s2") is False  # second device, other process
    assert sorted(await a.sids(anna)) == ["s1", "s2"]
    assert await a.disconnect(anna, "s1") is False  # still on b
    assert await a.is_online(anna)
    assert anna in await a.online_user_ids()
    assert await b.disconnect(anna, "s2") is True  # last one: went offline
    assert not await a.is_online(anna)
    assert await b.disconnect(anna, "s2") is False  # twice is not offline twice


async def test_a_dead_process_connections_expire_and_are_reported_once(
    processes: tuple[RedisPresence, RedisPresence, FakeClock],
) -> None:
    a, b, clock = processes
    anna, bob = uuid.uuid4(), uuid.uuid4()
    await a.connect(anna, "a1")
    await b.connect(bob, "b1")  # b will die: no heartbeat, no disconnect
    clock.now += 40
    await a.heartbeat()  # a is alive and keeps its connections
    assert await a.sweep() == []
    clock.now += 40  # b's entries are 80 s old (ttl 60), a's 40 s
    assert await a.is_online(anna)
    assert not await a.is_online(bob)
    assert await a.online_user_ids() == {anna}
    assert await a.sweep() == [bob]  # one survivor reports bob ...
    assert await b.sweep() == []  # ... once
