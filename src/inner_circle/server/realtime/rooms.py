"""Socket.IO room names: every connection joins its member's and its sign-in session's room."""

from __future__ import annotations

import uuid
from functools import lru_cache

__all__ = ["FAMILY_ROOM", "session_room", "user_room"]

# Every connection joins it once its token is accepted (never before): events for the whole
# family (presence) go to this one room instead of a list of every member's room.
FAMILY_ROOM = "family"


# Every event names its recipients' rooms (the family chat: every member's); a family's
# few hundred names are kept rather than formatted from a UUID again for each event.
@lru_cache(maxsize=4096)
def user_room(user_id: uuid.UUID | str) -> str:
    """The Socket.IO room every connection of a user joins."""
    return f"user:{user_id}"


def session_room(session_id: uuid.UUID | str) -> str:
    """The Socket.IO room of the connections opened with one sign-in session's tokens."""
    return f"session:{session_id}"
