"""Where rate-limit counters live: this process's memory, or Redis shared by every process.

Both backends implement the same two primitives, and the tests run the same
cases against each:

* a **token bucket** (``take``): ``capacity`` requests at once, refilled at
  ``per_second``; used for message sending and registration attempts;
* a **lockout counter** (``attempt``/``forgive``): every attempt counts until it
  is forgiven (a success); after ``free`` counted attempts each further one must
  wait ``base * 2**(n - free)`` seconds (at most ``cap``); counts are forgotten
  after ``window`` seconds without attempts. Attempts are counted *before* their
  outcome is known, so a burst of parallel guesses cannot slip past the limit.

Time is passed in (``now``, seconds since the epoch) so that processes agree on
it and tests can move it; key expiry in Redis only collects garbage, it never
decides an answer. Each call answers ``0.0`` (allowed) or the seconds to wait.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any, Protocol

__all__ = ["Bucket", "LimitBackend", "Lockout", "MemoryBackend", "RedisBackend"]

log = logging.getLogger(__name__)
MAX_EXPONENT = 30


@dataclass(frozen=True, slots=True)
class Bucket:
    capacity: float
    per_second: float

    @property
    def enabled(self) -> bool:
        return self.capacity > 0 and self.per_second > 0


@dataclass(frozen=True, slots=True)
class Lockout:
    free: int
    base: float
    cap: float
    window: float

    @property
    def enabled(self) -> bool:
        return self.free > 0

    def delay(self, count: int) -> float:
        """Seconds the next attempt must wait after ``count`` counted attempts."""
        if count < self.free:
            return 0.0
        return min(self.base * 2 ** min(count - self.free, MAX_EXPONENT), self.cap)


class LimitBackend(Protocol):
    async def take(self, key: str, bucket: Bucket, now: float) -> float: ...

    async def attempt(self, key: str, lockout: Lockout, now: float) -> float: ...

    async def forgive(self, key: str, lockout: Lockout, *, reset: bool) -> None: ...

    async def close(self) -> None: ...


class MemoryBackend:
    """Counters for one server process, bounded in size (oldest idle keys go first)."""

    def __init__(self, max_keys: int = 100_000) -> None:
        self._entries: dict[str, tuple[float, list[float]]] = {}  # key -> (expires, state)
        self._max_keys = max_keys

    def _get(self, key: str, now: float) -> list[float] | None:
        entry = self._entries.pop(key, None)  # re-inserted by _put: dict order is recency
        if entry is None or entry[0] <= now:
            return None
        return entry[1]

    def _put(self, key: str, state: list[float], expires: float, now: float) -> None:
        self._entries[key] = (expires, state)
        if len(self._entries) > self._max_keys:
            for stale in [k for k, (exp, _) in self._entries.items() if exp <= now]:
                del self._entries[stale]
            while len(self._entries) > self._max_keys:
                del self._entries[next(iter(self._entries))]

    async def take(self, key: str, bucket: Bucket, now: float) -> float:
        state = self._get(key, now) or [bucket.capacity, now]
        tokens = min(bucket.capacity, state[0] + max(0.0, now - state[1]) * bucket.per_second)
        wait = 0.0
        if tokens >= 1:
            tokens -= 1
        else:
            wait = (1 - tokens) / bucket.per_second
        self._put(key, [tokens, now], now + bucket.capacity / bucket.per_second + 1, now)
        return wait

    async def attempt(self, key: str, lockout: Lockout, now: float) -> float:
        state = self._get(key, now)
        count, not_before, last = state if state else (0.0, 0.0, 0.0)
        if count and now - last > lockout.window:
            count, not_before = 0.0, 0.0
        if not_before > now:
            self._put(key, [count, not_before, last], now + lockout.window + lockout.cap, now)
            return not_before - now
        count += 1
        delay = lockout.delay(int(count))
        self._put(
            key,
            [count, now + delay if delay else 0.0, now],
            now + lockout.window + lockout.cap,
            now,
        )
        return 0.0

    async def forgive(self, key: str, lockout: Lockout, *, reset: bool) -> None:
        entry = self._entries.get(key)
        if entry is None:
            return
        if reset:
            del self._entries[key]
            return
        state = entry[1]
        state[0] = max(0.0, state[0] - 1)
        if state[0] < lockout.free:
            state[1] = 0.0

    async def close(self) -> None:
        self._entries.clear()


# Lua keeps each read-modify-write atomic across processes. Numbers go back as strings:
# Redis would truncate a Lua number to an integer.
_TAKE = """
local cap = tonumber(ARGV[2]); local rate = tonumber(ARGV[3]); local now = tonumber(ARGV[1])
local st = redis.call('HMGET', KEYS[1], 't', 'ts')
local tokens = tonumber(st[1]); local ts = tonumber(st[2])
if tokens == nil or ts == nil then tokens = cap; ts = now end
tokens = math.min(cap, tokens + math.max(0, now - ts) * rate)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = (1 - tokens) / rate end
redis.call('HSET', KEYS[1], 't', tostring(tokens), 'ts', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(cap / rate * 1000) + 1000)
return tostring(wait)
"""

_ATTEMPT = """
local now = tonumber(ARGV[1]); local free = tonumber(ARGV[2]); local base = tonumber(ARGV[3])
local cap = tonumber(ARGV[4]); local window = tonumber(ARGV[5])
local st = redis.call('HMGET', KEYS[1], 'n', 'nb', 'last')
local n = tonumber(st[1]) or 0; local nb = tonumber(st[2]) or 0; local last = tonumber(st[3]) or 0
local ttl = math.ceil((window + cap) * 1000)
if n > 0 and now - last > window then n = 0; nb = 0 end
if nb > now then return tostring(nb - now) end
n = n + 1
if n >= free then nb = now + math.min(base * 2 ^ math.min(n - free, 30), cap) else nb = 0 end
redis.call('HSET', KEYS[1], 'n', n, 'nb', tostring(nb), 'last', tostring(now))
redis.call('PEXPIRE', KEYS[1], ttl)
return '0'
"""

_FORGIVE = """
local n = tonumber(redis.call('HGET', KEYS[1], 'n'))
if n == nil then return 0 end
n = math.max(0, n - 1)
redis.call('HSET', KEYS[1], 'n', n)
if n < tonumber(ARGV[1]) then redis.call('HSET', KEYS[1], 'nb', '0') end
return 0
"""


class RedisBackend:
    """Counters in Redis, so every server process behind one proxy shares them.

    If Redis cannot be reached the request is allowed (and a warning logged):
    a family messenger should not lock everyone out because a cache is down.
    """

    def __init__(self, client: Any, prefix: str = "inner-circle") -> None:
        self._redis = client
        self._prefix = f"{prefix}:limit:"
        self._take = client.register_script(_TAKE)
        self._attempt = client.register_script(_ATTEMPT)
        self._forgive = client.register_script(_FORGIVE)

    async def _run(self, script: Any, key: str, *args: float) -> float:
        from redis.exceptions import RedisError

        try:
            result = await script(keys=[self._prefix + key], args=[repr(float(a)) for a in args])
        except (RedisError, OSError) as exc:
            log.warning(
                "rate limiter: Redis unavailable (%s); allowing the request", type(exc).__name__
            )
            return 0.0
        value = float(result.decode() if isinstance(result, bytes) else result)
        return value if math.isfinite(value) else 0.0

    async def take(self, key: str, bucket: Bucket, now: float) -> float:
        return await self._run(self._take, key, now, bucket.capacity, bucket.per_second)

    async def attempt(self, key: str, lockout: Lockout, now: float) -> float:
        return await self._run(
            self._attempt, key, now, lockout.free, lockout.base, lockout.cap, lockout.window
        )

    async def forgive(self, key: str, lockout: Lockout, *, reset: bool) -> None:
        from redis.exceptions import RedisError

        try:
            if reset:
                await self._redis.delete(self._prefix + key)
            else:
                await self._forgive(keys=[self._prefix + key], args=[lockout.free])
        except (RedisError, OSError):
            log.warning("rate limiter: Redis unavailable; could not forgive an attempt")

    async def close(self) -> None:
        return None  # the client belongs to the app, which closes it
