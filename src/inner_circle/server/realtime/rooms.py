"""Socket.IO room names: every connection joins its member's and its sign-in session's room."""

from __future__ import annotations

import uuid

__all__ = ["session_room", "user_room"]


def user_room(user_id: uuid.UUID | str) -> str:
    """The Socket.IO room every connection of a user joins."""
    return f"user:{user_id}"


def session_room(session_id: uuid.UUID | str) -> str:
    """The Socket.IO room of the connections opened with one sign-in session's tokens."""
    return f"session:{session_id}"
