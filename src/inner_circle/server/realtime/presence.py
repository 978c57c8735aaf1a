"""Who is online: a member is online while any of their connections is open."""

from __future__ import annotations

import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from inner_circle.server.ports import PresenceTracker

__all__ = ["MemoryPresence", "PresenceTracker", "RedisPresence"]


class MemoryPresence:
    """Presence for a single server process."""

    def __init__(self) -> None:
        self._sids: dict[uuid.UUID, set[str]] = defaultdict(set)

    async def connect(self, user_id: uuid.UUID, sid: str) -> bool:
        sids = self._sids[user_id]
        sids.add(sid)
        return len(sids) == 1

    async def disconnect(self, user_id: uuid.UUID, sid: str) -> bool:
        sids = self._sids.get(user_id)
        if not sids or sid not in sids:
            return False
        sids.discard(sid)
        if not sids:
            del self._sids[user_id]
            return True
        return False

    async def online_user_ids(self) -> set[uuid.UUID]:
        return set(self._sids)

    async def is_online(self, user_id: uuid.UUID) -> bool:
        return user_id in self._sids

    async def sids(self, user_id: uuid.UUID) -> list[str]:
        return list(self._sids.get(user_id, ()))

    async def heartbeat(self) -> None:
        return None

    async def sweep(self) -> list[uuid.UUID]:
        return []

    async def close(self) -> None:
        return None


_CONNECT = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[5])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[4])
return redis.call('ZCARD', KEYS[1])
"""

_DISCONNECT = """
local removed = redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])
local left = redis.call('ZCARD', KEYS[1])
if left == 0 then redis.call('ZREM', KEYS[2], ARGV[3]) end
if removed == 0 then return -1 end
return left
"""

_SWEEP = """
local gone = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
local out = {}
for _, uid in ipairs(gone) do
  local key = ARGV[2] .. uid
  redis.call('ZREMRANGEBYSCORE', key, '-inf', ARGV[1])
  if redis.call('ZCARD', key) == 0 then
    redis.call('ZREM', KEYS[1], uid)
    table.insert(out, uid)
  end
end
return out
"""


class RedisPresence:
    """Presence shared by every server process through Redis.

    Each connection is a member ``<process id>:<sid>`` of the user's sorted set,
    scored with the time it expires. Every process refreshes its own connections
    every ``ttl / 3`` seconds (:meth:`heartbeat`), so the connections of a process
    that died (kill -9, a lost machine) stop counting after at most ``ttl`` seconds;
    :meth:`sweep` then reports those users once, so the server can tell the family
    they went offline. Scripts keep each change atomic across processes.
    """

    def __init__(
        self,
        redis: Any,
        *,
        prefix: str = "inner-circle:",
        ttl: float = 60.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._redis = redis
        self._now = clock
        self._prefix = f"{prefix}presence:"
        self._users_key = f"{self._prefix}users"
        self.ttl = ttl
        self.process_id = uuid.uuid4().hex
        self._local: dict[uuid.UUID, set[str]] = defaultdict(set)
        self._connect = redis.register_script(_CONNECT)
        self._disconnect = redis.register_script(_DISCONNECT)
        self._sweep = redis.register_script(_SWEEP)

    @classmethod
    def from_url(cls, url: str, **options: Any) -> RedisPresence:
        from redis.asyncio import Redis

        return cls(Redis.from_url(url), **options)

    def _key(self, user_id: uuid.UUID | str) -> str:
        return f"{self._prefix}user:{user_id}"

    def _member(self, sid: str) -> str:
        return f"{self.process_id}:{sid}"

    async def connect(self, user_id: uuid.UUID, sid: str) -> bool:
        self._local[user_id].add(sid)
        now = self._now()
        count = await self._connect(
            keys=[self._key(user_id), self._users_key],
            args=[self._member(sid), now, now + self.ttl, str(user_id), int(self.ttl * 2) + 1],
        )
        return int(count) == 1

    async def disconnect(self, user_id: uuid.UUID, sid: str) -> bool:
        local = self._local.get(user_id)
        if local is not None:
            local.discard(sid)
            if not local:
                del self._local[user_id]
        left = await self._disconnect(
            keys=[self._key(user_id), self._users_key],
            args=[self._member(sid), self._now(), str(user_id)],
        )
        return int(left) == 0

    async def online_user_ids(self) -> set[uuid.UUID]:
        found = await self._redis.zrangebyscore(self._users_key, self._now(), "+inf")
        return {uuid.UUID(_text(uid)) for uid in found}

    async def is_online(self, user_id: uuid.UUID) -> bool:
        return int(await self._redis.zcount(self._key(user_id), self._now(), "+inf")) > 0

    async def sids(self, user_id: uuid.UUID) -> list[str]:
        members = await self._redis.zrangebyscore(self._key(user_id), self._now(), "+inf")
        return [_text(member).split(":", 1)[1] for member in members]

    async def heartbeat(self) -> None:
        """Push this process's live connections' expiry ``ttl`` seconds ahead."""
        if not self._local:
            return
        expiry = self._now() + self.ttl
        pipe = self._redis.pipeline(transaction=False)
        for user_id, sids in list(self._local.items()):
            key = self._key(user_id)
            pipe.zadd(key, {self._member(sid): expiry for sid in sids})
            pipe.expire(key, int(self.ttl * 2) + 1)
            pipe.zadd(self._users_key, {str(user_id): expiry})
        await pipe.execute()

    async def sweep(self) -> list[uuid.UUID]:
        """Users whose every connection expired; each is reported by one process only."""
        gone = await self._sweep(keys=[self._users_key], args=[self._now(), f"{self._prefix}user:"])
        return [uuid.UUID(_text(uid)) for uid in gone]

    async def close(self) -> None:
        await self._redis.aclose()


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
