"""Who is online: a member is online while any of their connections is open."""

from __future__ import annotations

import uuid
from collections import defaultdict
from typing import Protocol

__all__ = ["MemoryPresence", "PresenceTracker"]


class PresenceTracker(Protocol):
    async def connect(self, user_id: uuid.UUID, sid: str) -> bool:
        """Record a connection; True when it is the user's first (they came online)."""
        ...

    async def disconnect(self, user_id: uuid.UUID, sid: str) -> bool:
        """Forget a connection; True when it was the user's last (they went offline)."""
        ...

    async def online_user_ids(self) -> set[uuid.UUID]: ...

    async def is_online(self, user_id: uuid.UUID) -> bool: ...


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
