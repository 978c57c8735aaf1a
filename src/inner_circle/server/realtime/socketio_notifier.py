"""Committed events become Socket.IO emits to per-user rooms."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import socketio

from inner_circle.server.realtime.notifier import OutgoingEvent, session_room, user_room
from inner_circle.server.realtime.presence import PresenceTracker

__all__ = ["SocketIONotifier"]


class SocketIONotifier:
    """Delivers events through the Socket.IO server (and its Redis manager, when configured).

    Recipients are computed from the database by the use case, so membership
    changes need no room bookkeeping: every connection joins only its user's room.
    """

    def __init__(self, sio: socketio.AsyncServer, presence: PresenceTracker | None = None) -> None:
        self._sio = sio
        self._presence = presence

    async def publish(self, events: Sequence[OutgoingEvent]) -> None:
        for event in events:
            if event.only_sid is not None:
                await self._sio.emit(event.name, event.payload, to=event.only_sid)
                continue
            if not event.user_ids:
                continue
            rooms = [user_room(uid) for uid in dict.fromkeys(event.user_ids)]
            await self._sio.emit(event.name, event.payload, room=rooms, skip_sid=event.skip_sid)

    async def disconnect_user(self, user_id: uuid.UUID) -> None:
        """Close the user's connections on every server process (their session has ended).

        Local connections close here; for the others the Redis manager asks the process
        that holds them (python-socketio publishes a ``disconnect`` for a sid it lacks).
        """
        room = user_room(user_id)
        sids = {sid for sid, _ in self._sio.manager.get_participants("/", room)}
        if self._presence is not None:
            sids.update(await self._presence.sids(user_id))
        for sid in sids:
            await self._sio.disconnect(sid)

    async def disconnect_session(self, session_id: uuid.UUID) -> None:
        """Close the connections of one signed-out session.

        Connections on this process close here. Those on other processes (with Redis)
        are told with ``sessionEnded`` through the shared room and close themselves;
        their tokens no longer authenticate anything new either way.
        """
        room = session_room(session_id)
        await self._sio.emit("sessionEnded", {"reason": "logout"}, room=room)
        for sid in [sid for sid, _ in self._sio.manager.get_participants("/", room)]:
            await self._sio.disconnect(sid)
