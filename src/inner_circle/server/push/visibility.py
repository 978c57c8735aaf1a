"""Which sign-in sessions have a connected, visible client right now.

A session with a connected socket counts as visible unless its client said it is
hidden (the web client sends ``visibility {hidden: true}`` when its tab goes to the
background). Native and SDK clients never say, so they get no push while connected.
With Redis the state is shared by every server process: per session a sorted set of
its visible connections, scored by expiry and refreshed by a heartbeat, so the
connections of a process that died stop counting after ``ttl`` seconds.
"""

from __future__ import annotations

import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any, Protocol

__all__ = ["MemoryVisibility", "RedisVisibility", "VisibilityTracker"]


class VisibilityTracker(Protocol):
    async def set_state(self, session_id: uuid.UUID, sid: str, visible: bool) -> None:
        """Record a connection of ``session_id`` as visible or hidden."""
        ...

    async def forget(self, session_id: uuid.UUID, sid: str) -> None:
        """The connection closed."""
        ...

    async def visible_sessions(self, session_ids: Iterable[uuid.UUID]) -> set[uuid.UUID]: ...

    async def heartbeat(self) -> None: ...

    async def close(self) -> None: ...


class MemoryVisibility:
    """One server process."""

    def __init__(self) -> None:
        self._visible: dict[uuid.UUID, set[str]] = defaultdict(set)

    async def set_state(self, session_id: uuid.UUID, sid: str, visible: bool) -> None:
        if visible:
            self._visible[session_id].add(sid)
        else:
            await self.forget(session_id, sid)

    async def forget(self, session_id: uuid.UUID, sid: str) -> None:
        sids = self._visible.get(session_id)
        if sids is not None:
            sids.discard(sid)
            if not sids:
                del self._visible[session_id]

    async def visible_sessions(self, session_ids: Iterable[uuid.UUID]) -> set[uuid.UUID]:
        return {s for s in session_ids if self._visible.get(s)}

    async def heartbeat(self) -> None:
        return None

    async def close(self) -> None:
        return None


class RedisVisibility:
    """Shared by every server process through Redis."""

    def __init__(
        self,
        redis: Any,
        *,
        prefix: str = "inner-circle:",
        ttl: float = 60.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._redis = redis
        self._prefix = f"{prefix}push:visible:"
        self._ttl = ttl
        self._now = clock
        self._local: dict[uuid.UUID, set[str]] = defaultdict(set)
        self._closed = False

    @classmethod
    def from_url(cls, url: str, **options: Any) -> RedisVisibility:
        from redis.asyncio import Redis

        return cls(Redis.from_url(url), **options)

    def _key(self, session_id: uuid.UUID) -> str:
        return f"{self._prefix}{session_id}"

    async def set_state(self, session_id: uuid.UUID, sid: str, visible: bool) -> None:
        if self._closed:
            return
        if not visible:
            await self.forget(session_id, sid)
            return
        self._local[session_id].add(sid)
        key = self._key(session_id)
        pipe = self._redis.pipeline(transaction=False)
        pipe.zadd(key, {sid: self._now() + self._ttl})
        pipe.expire(key, int(self._ttl * 2) + 1)
        await pipe.execute()

    async def forget(self, session_id: uuid.UUID, sid: str) -> None:
        local = self._local.get(session_id)
        if local is not None:
            local.discard(sid)
            if not local:
                del self._local[session_id]
        if self._closed:
            return  # shutting down: the entries expire by themselves
        await self._redis.zrem(self._key(session_id), sid)

    async def visible_sessions(self, session_ids: Iterable[uuid.UUID]) -> set[uuid.UUID]:
        ids = list(dict.fromkeys(session_ids))
        if not ids:
            return set()
        now = self._now()
        pipe = self._redis.pipeline(transaction=False)
        for session_id in ids:
            pipe.zcount(self._key(session_id), now, "+inf")
        counts = await pipe.execute()
        return {s for s, count in zip(ids, counts, strict=True) if int(count) > 0}

    async def heartbeat(self) -> None:
        if not self._local:
            return
        expiry = self._now() + self._ttl
        pipe = self._redis.pipeline(transaction=False)
        for session_id, sids in list(self._local.items()):
            key = self._key(session_id)
            pipe.zadd(key, dict.fromkeys(sids, expiry))
            pipe.expire(key, int(self._ttl * 2) + 1)
        await pipe.execute()

    async def close(self) -> None:
        self._closed = True
        await self._redis.aclose()
