"""Which devices were pushed a chat's notification since their member last read it.

A mark per (member, chat): the devices (Web Push subscription or FCM token ids) and the
sign-in session of each. Reading the chat *takes* the marks in one atomic step, so one
"read" push goes per shown notification however many reads race, on any process
(ADR 17). With Redis the marks are shared by every process: a hash per (member, chat)
and a set per device of the chats it shows, both expiring after ``ttl`` (a notification
left for weeks is not worth a push). Without Redis (one process) they live in memory.

Marks are kept out of the database on purpose: they are written for every push, off the
request path, and SQLite shared by several processes would make those writes collide
with requests; losing them (a restart) only leaves a stale notification that the app
closes when it opens.
"""

from __future__ import annotations

import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol

__all__ = ["MemoryShownMarks", "RedisShownMarks", "ShownMarks"]

DEFAULT_TTL = 30 * 24 * 3600.0


class ShownMarks(Protocol):
    async def mark(
        self, user_id: uuid.UUID, chat_id: uuid.UUID, devices: Mapping[uuid.UUID, uuid.UUID]
    ) -> None:
        """``devices`` (device id → session id) were pushed a notification of the chat."""
        ...

    async def claim(self, user_id: uuid.UUID, chat_id: uuid.UUID) -> dict[uuid.UUID, uuid.UUID]:
        """The chat was read: take its marks (device id → session id); a second claim
        gets none until the chat is marked again."""
        ...

    async def still_shown(self, device_ids: Iterable[uuid.UUID]) -> set[uuid.UUID]:
        """The devices among ``device_ids`` that still show some chat's notification."""
        ...

    async def close(self) -> None: ...


class MemoryShownMarks:
    """One server process."""

    def __init__(self, *, ttl: float = DEFAULT_TTL, clock: Callable[[], float] = time.time) -> None:
        self._ttl = ttl
        self._now = clock
        # (member, chat) → device → (session, expiry)
        self._marks: dict[tuple[uuid.UUID, uuid.UUID], dict[uuid.UUID, tuple[uuid.UUID, float]]]
        self._marks = defaultdict(dict)

    async def mark(
        self, user_id: uuid.UUID, chat_id: uuid.UUID, devices: Mapping[uuid.UUID, uuid.UUID]
    ) -> None:
        expiry = self._now() + self._ttl
        entry = self._marks[(user_id, chat_id)]
        for device, session in devices.items():
            entry[device] = (session, expiry)

    async def claim(self, user_id: uuid.UUID, chat_id: uuid.UUID) -> dict[uuid.UUID, uuid.UUID]:
        now = self._now()
        taken = self._marks.pop((user_id, chat_id), {})
        return {device: session for device, (session, expiry) in taken.items() if expiry > now}

    async def still_shown(self, device_ids: Iterable[uuid.UUID]) -> set[uuid.UUID]:
        wanted, now = set(device_ids), self._now()
        return {
            device
            for entry in self._marks.values()
            for device, (_, expiry) in entry.items()
            if device in wanted and expiry > now
        }

    async def close(self) -> None:
        return None


class RedisShownMarks:
    """Shared by every server process through Redis."""

    def __init__(self, redis: Any, *, prefix: str = "inner-circle:", ttl: float = DEFAULT_TTL):
        self._redis = redis
        self._prefix = f"{prefix}push:shown:"
        self._ttl = int(ttl)

    @classmethod
    def from_url(cls, url: str, **options: Any) -> RedisShownMarks:
        from redis.asyncio import Redis

        return cls(Redis.from_url(url), **options)

    def _chat_key(self, user_id: uuid.UUID, chat_id: uuid.UUID) -> str:
        return f"{self._prefix}{user_id}:{chat_id}"

    def _device_key(self, device_id: uuid.UUID) -> str:
        return f"{self._prefix}device:{device_id}"

    async def mark(
        self, user_id: uuid.UUID, chat_id: uuid.UUID, devices: Mapping[uuid.UUID, uuid.UUID]
    ) -> None:
        if not devices:
            return
        key = self._chat_key(user_id, chat_id)
        pipe = self._redis.pipeline(transaction=False)
        pipe.hset(key, mapping={str(d): str(s) for d, s in devices.items()})
        pipe.expire(key, self._ttl)
        for device in devices:
            pipe.sadd(self._device_key(device), str(chat_id))
            pipe.expire(self._device_key(device), self._ttl)
        await pipe.execute()

    async def claim(self, user_id: uuid.UUID, chat_id: uuid.UUID) -> dict[uuid.UUID, uuid.UUID]:
        key = self._chat_key(user_id, chat_id)
        # MULTI/EXEC: reading and deleting is one step, so of two racing reads on two
        # processes only one gets the marks.
        pipe = self._redis.pipeline(transaction=True)
        pipe.hgetall(key)
        pipe.delete(key)
        raw, _ = await pipe.execute()
        taken = {uuid.UUID(_text(d)): uuid.UUID(_text(s)) for d, s in raw.items()}
        if taken:
            pipe = self._redis.pipeline(transaction=False)
            for device in taken:
                pipe.srem(self._device_key(device), str(chat_id))
            await pipe.execute()
        return taken

    async def still_shown(self, device_ids: Iterable[uuid.UUID]) -> set[uuid.UUID]:
        ids = list(dict.fromkeys(device_ids))
        if not ids:
            return set()
        pipe = self._redis.pipeline(transaction=False)
        for device in ids:
            pipe.scard(self._device_key(device))
        counts = await pipe.execute()
        return {d for d, count in zip(ids, counts, strict=True) if int(count) > 0}

    async def close(self) -> None:
        await self._redis.aclose()


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
