"""The interfaces the lower layers need from the real-time edge, owned by neither.

The unit of work (``db/uow.py``) hands committed events to a :class:`Notifier`, and use
cases ask a :class:`PresenceTracker` who is online. Both are implemented in
``realtime/`` (Socket.IO emits, memory or Redis presence) and faked in tests. Keeping
the protocols here lets ``db/`` and ``services/`` depend on the shape, not on
``realtime/`` (ADR 11: dependencies point down).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

__all__ = ["DEVICE_HOLDERS", "MediaStore", "Notifier", "OutgoingEvent", "PresenceTracker"]

# A key of ``OutgoingEvent.extra`` on ``messageReceived``: the recipients who have a push
# device, when the use case read that with the chat's members (the push planner then needs
# no query of its own, push/dispatch.py).
DEVICE_HOLDERS = "deviceHolders"


@dataclass(slots=True)
class OutgoingEvent:
    """One event for a set of users; ``payload`` is JSON-ready."""

    name: str
    payload: Any
    user_ids: Sequence[uuid.UUID]
    skip_sid: str | None = None
    only_sid: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    # For every signed-in connection of the family (``user_ids`` is empty): presence, which
    # every member hears; no recipient list is read or built per event.
    everyone: bool = False
    # The Socket.IO namespace: "/" (chats) or "/calls".
    namespace: str = "/"


class Notifier(Protocol):
    """Delivers what a unit of work released after its commit."""

    async def publish(self, events: Sequence[OutgoingEvent]) -> None: ...

    async def disconnect_user(self, user_id: uuid.UUID) -> None: ...

    async def disconnect_session(self, session_id: uuid.UUID) -> None: ...


class PresenceTracker(Protocol):
    """Who is online: a member is online while any of their connections is open."""

    async def connect(self, user_id: uuid.UUID, sid: str) -> bool:
        """Record a connection; True when it is the user's first (they came online)."""
        ...

    async def disconnect(self, user_id: uuid.UUID, sid: str) -> bool:
        """Forget a connection; True when it was the user's last (they went offline)."""
        ...

    async def online_user_ids(self) -> set[uuid.UUID]: ...

    async def is_online(self, user_id: uuid.UUID) -> bool: ...

    async def sids(self, user_id: uuid.UUID) -> list[str]:
        """Every live connection of the user, on every server process."""
        ...

    async def heartbeat(self) -> None:
        """Keep this process's connections alive (called every ``ttl / 3`` seconds)."""
        ...

    async def sweep(self) -> list[uuid.UUID]:
        """Users whose connections all expired (their server process died)."""
        ...

    async def close(self) -> None: ...


class MediaStore(Protocol):
    """Where media contents live (``media/storage_local.py``, ``media/storage_s3.py``).

    Keys are ``/``-separated names chosen by the caller (content addressed: the same key
    always holds the same bytes, so writing one twice is harmless).
    """

    async def put(self, key: str, source: Path, content_type: str) -> None:
        """Store the file ``source`` under ``key`` (streamed, never read whole)."""
        ...

    async def size(self, key: str) -> int | None:
        """The stored size, or None when there is no such object."""
        ...

    def read(self, key: str, start: int, end: int) -> AsyncIterator[bytes]:
        """Bytes ``start``..``end`` (inclusive) of the object, in chunks."""
        ...

    async def delete(self, keys: Sequence[str]) -> None:
        """Remove the objects (missing ones are fine)."""
        ...

    async def presign(
        self, key: str, *, expires_in: int, content_type: str, disposition: str | None
    ) -> str | None:
        """A URL the store itself serves the object at, or None (we serve it)."""
        ...

    async def close(self) -> None: ...
