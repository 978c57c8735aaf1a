"""The interfaces the lower layers need from the real-time edge, owned by neither.

The unit of work (``db/uow.py``) hands committed events to a :class:`Notifier`, and use
cases ask a :class:`PresenceTracker` who is online. Both are implemented in
``realtime/`` (Socket.IO emits, memory or Redis presence) and faked in tests. Keeping
the protocols here lets ``db/`` and ``services/`` depend on the shape, not on
``realtime/`` (ADR 11: dependencies point down).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

__all__ = ["Notifier", "OutgoingEvent", "PresenceTracker"]


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
