"""What a unit of work hands over after its commit: events for users."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

__all__ = ["Notifier", "OutgoingEvent", "session_room", "user_room"]


def user_room(user_id: uuid.UUID | str) -> str:
    """The Socket.IO room every connection of a user joins."""
    return f"user:{user_id}"


def session_room(session_id: uuid.UUID | str) -> str:
    """The Socket.IO room of the connections opened with one sign-in session's tokens."""
    return f"session:{session_id}"


@dataclass(slots=True)
class OutgoingEvent:
    """One event for a set of users; ``payload`` is JSON-ready."""

    name: str
    payload: Any
    user_ids: Sequence[uuid.UUID]
    skip_sid: str | None = None
    only_sid: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class Notifier(Protocol):
    async def publish(self, events: Sequence[OutgoingEvent]) -> None: ...

    async def disconnect_user(self, user_id: uuid.UUID) -> None: ...

    async def disconnect_session(self, session_id: uuid.UUID) -> None: ...
