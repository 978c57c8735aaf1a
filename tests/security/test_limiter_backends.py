"""The two limiter primitives behave the same in memory and in Redis (time is passed in)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from inner_circle.core.errors import ErrorCode, RateLimited, Unauthenticated
from inner_circle.server.limits import Bucket, Limits, Lockout, MemoryBackend, RedisBackend
from inner_circle.server.limits.backends import LimitBackend
from tests.support import make_settings

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


async def test_attempt_all_counts_nothing_when_one_key_is_locked(backend: LimitBackend) -> None:
    user = Lockout(free=3, base=10, cap=100, window=600)
    address = Lockout(free=2, base=10, cap=100, window=600)
    for _ in range(2):
        assert await backend.attempt("addr", address, T0) == 0
    assert await backend.key_count() == 1
    for _ in range(10):  # refused by the address: the user key is neither counted nor made
        assert await backend.attempt_all([("user", user), ("addr", address)], T0 + 1) > 0
    assert await backend.key_count() == 1
    assert await backend.attempt_all([("user", user)], T0 + 1) == 0
    assert await backend.attempt_all([("user", user)], T0 + 1) == 0
    assert await backend.attempt_all([("user", user)], T0 + 1) == 0  # the 3rd: still free
    assert await backend.attempt_all([("user", user)], T0 + 1) > 0
    # Once nothing is locked, one call counts on every key.
    assert await backend.attempt_all([("a", user), ("b", user)], T0 + 1) == 0
    assert await backend.key_count() == 4


async def test_refused_sign_ins_create_no_username_keys(
    backend: LimitBackend, tmp_path: Path
) -> None:
    settings = make_settings("sqlite+aiosqlite://", tmp_path, limit_login_address_free_attempts=2)
    limits = Limits(settings, backend, now=lambda: T0)
    for i in range(2):  # the address uses up its free attempts
        with pytest.raises(Unauthenticated):
            async with limits.login_attempt(f"guess{i}", "198.51.100.7"):
                raise Unauthenticated("wrong", ErrorCode.INVALID_CREDENTIALS)
    before = await backend.key_count()
    for i in range(500):  # a flood of fresh names from the locked address
        with pytest.raises(RateLimited):
            async with limits.login_attempt(f"flood{i}", "198.51.100.7"):
                pytest.fail("a refused attempt must not run")
    assert await backend.key_count() == before


async def test_locks_survive_a_flood_of_new_keys(backend: LimitBackend) -> None:
    if isinstance(backend, MemoryBackend):
        backend = MemoryBackend(max_keys=100)
    lockout = Lockout(free=3, base=1000, cap=1000, window=600)
    for _ in range(3):
        assert await backend.attempt("login:user:anna", lockout, T0) == 0
    assert await backend.attempt("login:user:anna", lockout, T0) > 0
    for i in range(1000):  # new names are cheap to mint: each one a first attempt
        assert await backend.attempt(f"login:user:guess{i}", lockout, T0 + 1) == 0
    assert await backend.attempt("login:user:anna", lockout, T0 + 2) > 0


async def test_marks_remember_until_they_expire(backend: LimitBackend) -> None:
    assert not await backend.recalls("seen", T0)
    await backend.remember("seen", 60, T0)
    assert await backend.recalls("seen", T0 + 59)
    assert not await backend.recalls("seen", T0 + 61)  # the time passed in decides


async def test_memory_backend_stays_bounded() -> None:
    backend = MemoryBackend(max_keys=100, max_locks=50)
    lockout = Lockout(free=1, base=1000, cap=1000, window=600)  # every key locks at once
    for i in range(1000):
        await backend.attempt(f"user{i}", lockout, T0)
    assert await backend.key_count() <= 50
    assert await backend.attempt("user999", lockout, T0) > 0  # the newest locks are kept
    fresh = Lockout(free=5, base=1000, cap=1000, window=600)
    for i in range(1000):
        await backend.attempt(f"fresh{i}", fresh, T0)
    assert await backend.key_count() <= 150
    assert await backend.attempt("user999", lockout, T0) > 0  # fresh keys evict fresh keys


async def test_memory_backend_evicts_the_least_recently_used_key() -> None:
    backend = MemoryBackend(max_keys=3)
    lockout = Lockout(free=3, base=100, cap=100, window=600)
    for key in ("a", "b", "c"):
        await backend.attempt(key, lockout, T0)
    await backend.attempt("a", lockout, T0)  # "a" is used again: "b" is now the oldest
    await backend.attempt("d", lockout, T0)  # one key too many: "b" goes
    assert await backend.key_count() == 3
    assert await backend.attempt("a", lockout, T0) == 0  # "a" kept its count: 3rd attempt
    assert await backend.attempt("a", lockout, T0) > 0
    assert [await backend.attempt("b", lockout, T0) for _ in range(3)] == [0, 0, 0]  # anew
    assert await backend.attempt("b", lockout, T0) > 0
