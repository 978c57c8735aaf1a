"""Where rate-limit counters live: this process's memory, or Redis shared by every process.

Both backends implement the same primitives, and the tests run the same cases
against each:

* a **token bucket** (``take``): ``capacity`` requests at once, refilled at
  ``per_second``; used for message sending and registration attempts;
* a **lockout counter** (``attempt``/``forgive``): every attempt counts until it
  is forgiven (a success); after ``free`` counted attempts each further one must
  wait ``base * 2**(n - free)`` seconds (at most ``cap``); counts are forgotten
  after ``window`` seconds without attempts. Attempts are counted *before* their
  outcome is known, so a burst of parallel guesses cannot slip past the limit.
  ``attempt_all`` checks several counters at once and counts the attempt on
  every one of them only when none is locked: a request refused by one key
  (say, its address) leaves the others (say, the username) untouched, and
  creates no counter for them;
* a **mark** (``remember``/``recalls``): a flag that expires, used to remember
  which address a member signed in from.

Time is passed in (``now``, seconds since the epoch) so that processes agree on
it and tests can move it; key expiry in Redis only collects garbage, it never
decides an answer. Each call answers ``0.0`` (allowed) or the seconds to wait.
"""

from __future__ import annotations

import logging
import math
from collections import OrderedDict
from collections.abc import Sequence
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

    async def attempt_all(self, items: Sequence[tuple[str, Lockout]], now: float) -> float: ...

    async def forgive(self, key: str, lockout: Lockout, *, reset: bool) -> None: ...

    async def remember(self, key: str, seconds: float, now: float) -> None: ...

    async def recalls(self, key: str, now: float) -> bool: ...

    async def key_count(self) -> int: ...

    async def close(self) -> None: ...


_Entry = tuple[float, list[float]]  # (expires, state)


class MemoryBackend:
    """Counters for one server process, bounded in size; every operation is O(1).

    Keys are cheap to mint (any username, any address), so the store must stay
    small and fast under a flood of new ones without forgetting what matters.
    It keeps three least-recently-used maps (``OrderedDict``: lookup, move to the
    end and eviction from the front are all O(1)):

    * ``_entries``: buckets and lockout counters that still have free attempts;
    * ``_locks``: lockout counters that have used up their free attempts. A flood
      of fresh keys only ever evicts other fresh keys, never a running lock;
      locks have a bound of their own (``max_locks``);
    * ``_marks``: remembered facts (an address a member signed in from); only a
      success creates one, so they are not cheap to mint.
    """

    def __init__(
        self, max_keys: int = 100_000, max_locks: int | None = None, max_marks: int | None = None
    ) -> None:
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._locks: OrderedDict[str, _Entry] = OrderedDict()
        self._marks: OrderedDict[str, float] = OrderedDict()  # key -> expires
        self._max_keys = max_keys
        self._max_locks = max_locks if max_locks is not None else max(1, max_keys // 4)
        self._max_marks = max_marks if max_marks is not None else max(1, max_keys // 4)

    def _find(self, key: str, now: float) -> list[float] | None:
        """The key's live state (or None), without counting it as a use."""
        for store in (self._locks, self._entries):
            entry = store.get(key)
            if entry is None:
                continue
            if entry[0] <= now:
                del store[key]
                return None
            return entry[1]
        return None

    def _touch(self, key: str) -> None:
        for store in (self._locks, self._entries):
            if key in store:
                store.move_to_end(key)
                return

    def _put(
        self, key: str, state: list[float], expires: float, now: float, *, locked: bool = False
    ) -> None:
        self._entries.pop(key, None)
        self._locks.pop(key, None)
        store, bound = (self._locks, self._max_locks) if locked else (self._entries, self._max_keys)
        store[key] = (expires, state)  # a new key goes to the end: dict order is recency
        _evict(store, bound, now)

    async def take(self, key: str, bucket: Bucket, now: float) -> float:
        state = self._find(key, now) or [bucket.capacity, now]
        tokens = min(bucket.capacity, state[0] + max(0.0, now - state[1]) * bucket.per_second)
        wait = 0.0
        if tokens >= 1:
            tokens -= 1
        else:
            wait = (1 - tokens) / bucket.per_second
        self._put(key, [tokens, now], now + bucket.capacity / bucket.per_second + 1, now)
        return wait

    async def attempt(self, key: str, lockout: Lockout, now: float) -> float:
        return await self.attempt_all([(key, lockout)], now)

    async def attempt_all(self, items: Sequence[tuple[str, Lockout]], now: float) -> float:
        counts: list[float] = []
        wait = 0.0
        for key, lockout in items:
            state = self._find(key, now)
            count, not_before, last = state if state else (0.0, 0.0, 0.0)
            if count and now - last > lockout.window:
                count, not_before = 0.0, 0.0
            if not_before > now:
                wait = max(wait, not_before - now)
                self._touch(key)  # a lock that is being hit is the last one to evict
            counts.append(count)
        if wait > 0:
            return wait  # refused: nothing is counted, no key is created
        for (key, lockout), count in zip(items, counts, strict=True):
            count += 1
            delay = lockout.delay(int(count))
            self._put(
                key,
                [count, now + delay if delay else 0.0, now],
                now + lockout.window + lockout.cap,
                now,
                locked=count >= lockout.free,
            )
        return 0.0

    async def forgive(self, key: str, lockout: Lockout, *, reset: bool) -> None:
        for store in (self._locks, self._entries):
            entry = store.get(key)
            if entry is None:
                continue
            if reset:
                del store[key]
                return
            state = entry[1]
            state[0] = max(0.0, state[0] - 1)
            if state[0] < lockout.free:
                state[1] = 0.0
            return

    async def remember(self, key: str, seconds: float, now: float) -> None:
        self._marks.pop(key, None)
        self._marks[key] = now + seconds
        _evict(self._marks, self._max_marks, now)

    async def recalls(self, key: str, now: float) -> bool:
        expires = self._marks.get(key)
        if expires is None:
            return False
        if expires <= now:
            del self._marks[key]
            return False
        return True

    async def key_count(self) -> int:
        return len(self._entries) + len(self._locks) + len(self._marks)

    async def close(self) -> None:
        self._entries.clear()
        self._locks.clear()
        self._marks.clear()


def _expires(value: Any) -> float:
    return float(value[0] if isinstance(value, tuple) else value)


def _evict(store: OrderedDict[str, Any], bound: int, now: float) -> None:
    """Drop expired keys from the front (each key is dropped once: amortised O(1)),
    then the least recently used ones while the store is over its bound."""
    while store and _expires(next(iter(store.values()))) <= now:
        store.popitem(last=False)
    while len(store) > bound:
        store.popitem(last=False)


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

# Every key is checked before any is counted: a request refused by one key writes nothing.
# ARGV: now, then (free, base, cap, window) per key.
_ATTEMPT_ALL = """
local now = tonumber(ARGV[1]); local wait = 0; local counts = {}
for i, key in ipairs(KEYS) do
  local window = tonumber(ARGV[(i - 1) * 4 + 5])
  local st = redis.call('HMGET', key, 'n', 'nb', 'last')
  local n = tonumber(st[1]) or 0; local nb = tonumber(st[2]) or 0; local last = tonumber(st[3]) or 0
  if n > 0 and now - last > window then n = 0; nb = 0 end
  if nb > now and nb - now > wait then wait = nb - now end
  counts[i] = n
end
if wait > 0 then return tostring(wait) end
for i, key in ipairs(KEYS) do
  local o = (i - 1) * 4
  local free = tonumber(ARGV[o + 2]); local base = tonumber(ARGV[o + 3])
  local cap = tonumber(ARGV[o + 4]); local window = tonumber(ARGV[o + 5])
  local n = counts[i] + 1; local nb = 0
  if n >= free then nb = now + math.min(base * 2 ^ math.min(n - free, 30), cap) end
  redis.call('HSET', key, 'n', n, 'nb', tostring(nb), 'last', tostring(now))
  redis.call('PEXPIRE', key, math.ceil((window + cap) * 1000))
end
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
        self._attempt_all = client.register_script(_ATTEMPT_ALL)
        self._forgive = client.register_script(_FORGIVE)

    async def _run(self, script: Any, keys: Sequence[str], *args: float) -> float:
        from redis.exceptions import RedisError

        try:
            result = await script(
                keys=[self._prefix + key for key in keys], args=[repr(float(a)) for a in args]
            )
        except (RedisError, OSError) as exc:
            log.warning(
                "rate limiter: Redis unavailable (%s); allowing the request", type(exc).__name__
            )
            return 0.0
        value = float(result.decode() if isinstance(result, bytes) else result)
        return value if math.isfinite(value) else 0.0

    async def take(self, key: str, bucket: Bucket, now: float) -> float:
        return await self._run(self._take, [key], now, bucket.capacity, bucket.per_second)

    async def attempt(self, key: str, lockout: Lockout, now: float) -> float:
        return await self.attempt_all([(key, lockout)], now)

    async def attempt_all(self, items: Sequence[tuple[str, Lockout]], now: float) -> float:
        args = [now]
        for _, lockout in items:
            args += [lockout.free, lockout.base, lockout.cap, lockout.window]
        return await self._run(self._attempt_all, [key for key, _ in items], *args)

    async def remember(self, key: str, seconds: float, now: float) -> None:
        from redis.exceptions import RedisError

        try:
            # The value decides (time is passed in); the TTL only collects the key.
            ttl = max(1, math.ceil(seconds * 1000)) + 60_000
            await self._redis.set(self._prefix + key, repr(float(now + seconds)), px=ttl)
        except (RedisError, OSError):
            log.warning("rate limiter: Redis unavailable; could not remember a sign-in")

    async def recalls(self, key: str, now: float) -> bool:
        from redis.exceptions import RedisError

        try:
            value = await self._redis.get(self._prefix + key)
        except (RedisError, OSError):
            return False
        if value is None:
            return False
        try:
            return float(value.decode() if isinstance(value, bytes) else value) > now
        except ValueError:
            return False

    async def key_count(self) -> int:
        """How many keys this limiter holds (a SCAN: for tests and diagnostics, not hot paths)."""
        count = 0
        async for _ in self._redis.scan_iter(match=self._prefix + "*", count=1000):
            count += 1
        return count

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
