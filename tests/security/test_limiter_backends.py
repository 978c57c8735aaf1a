"""The two limiter primitives behave the same in memory and in Redis (time is passed in)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from inner_circle.server.limits import Bucket, Lockout, MemoryBackend, RedisBackend
from inner_circle.server.limits.backends import LimitBackend

T0 = 1_700_000_000.0


@pytest_asyncio.fixture(params=["memory", "redis"])
async def backend(request: pytest.FixtureRequest) -> AsyncIterator[LimitBackend]:
    if request.param == "memory":
        yield MemoryBackend()
        return
    from redis.asyncio import Redis

    client = Redis.from_url(request.getfixturevalue("redis_url"))
    yield RedisBackend(client, request.getfixturevalue("redis_prefix"))
    await client.aclose()


async def test_bucket_allows_a_burst_then_refills_at_the_rate(backend: LimitBackend) -> None:
    bucket = Bucket(capacity=3, per_second=2)
    assert [await backend.take("k", bucket, T0) for _ in range(3)] == [0, 0, 0]
    assert await backend.take("k", bucket, T0) == pytest.approx(0.5)
    assert await backend.take("k", bucket, T0 + 0.5) == 0  # one token came back
    assert await backend.take("k", bucket, T0 + 0.5) == pytest.approx(0.5)
    assert await backend.take("k", bucket, T0 + 100) == 0  # refilled, never above capacity
    assert [await backend.take("k", bucket, T0 + 100) for _ in range(2)] == [0, 0]
    assert await backend.take("k", bucket, T0 + 100) > 0
    assert await backend.take("other", bucket, T0 + 100) == 0  # keys are independent


async def test_lockout_gives_free_attempts_then_doubles_the_wait(backend: LimitBackend) -> None:
    lockout = Lockout(free=3, base=1, cap=8, window=600)
    assert [await backend.attempt("k", lockout, T0) for _ in range(3)] == [0, 0, 0]
    assert await backend.attempt("k", lockout, T0) == pytest.approx(1)  # 4th waits 1 s
    assert await backend.attempt("k", lockout, T0 + 0.25) == pytest.approx(0.75)
    assert await backend.attempt("k", lockout, T0 + 1) == 0  # 4th counted: next waits 2 s
    assert await backend.attempt("k", lockout, T0 + 2) == pytest.approx(1)
    assert await backend.attempt("k", lockout, T0 + 3) == 0  # 5th: next waits 4 s
    assert await backend.attempt("k", lockout, T0 + 3) == pytest.approx(4)
    assert await backend.attempt("k", lockout, T0 + 7) == 0  # 6th: 8 s, the cap
    assert await backend.attempt("k", lockout, T0 + 7) == pytest.approx(8)
    assert await backend.attempt("k", lockout, T0 + 15) == 0
    assert await backend.attempt("k", lockout, T0 + 15) == pytest.approx(8)  # capped


async def test_lockout_forgets_after_a_quiet_window_and_on_reset(backend: LimitBackend) -> None:
    lockout = Lockout(free=2, base=10, cap=100, window=60)
    for _ in range(2):
        assert await backend.attempt("k", lockout, T0) == 0
    assert await backend.attempt("k", lockout, T0 + 1) > 0
    assert await backend.attempt("k", lockout, T0 + 200) == 0  # window passed: count restarts
    assert await backend.attempt("k", lockout, T0 + 200) == 0
    assert await backend.attempt("k", lockout, T0 + 200) > 0
    await backend.forgive("k", lockout, reset=True)
    assert await backend.attempt("k", lockout, T0 + 200) == 0


async def test_forgiving_one_attempt_takes_back_only_that_one(backend: LimitBackend) -> None:
    lockout = Lockout(free=2, base=10, cap=100, window=600)
    assert await backend.attempt("k", lockout, T0) == 0
    assert await backend.attempt("k", lockout, T0) == 0  # 2nd counted: locked
    await backend.forgive("k", lockout, reset=False)  # ...but it succeeded
    assert await backend.attempt("k", lockout, T0) == 0  # back to 1, this is the 2nd again
    assert await backend.attempt("k", lockout, T0) > 0
    await backend.forgive("unknown", lockout, reset=False)  # no state: nothing happens


async def test_memory_backend_stays_bounded() -> None:
    backend = MemoryBackend(max_keys=100)
    lockout = Lockout(free=1, base=1000, cap=1000, window=600)
    for i in range(1000):
        await backend.attempt(f"user{i}", lockout, T0)
    assert len(backend._entries) <= 100
    assert await backend.attempt("user999", lockout, T0) > 0  # the newest keys are kept
