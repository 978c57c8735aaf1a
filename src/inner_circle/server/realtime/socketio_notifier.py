"""Committed events become Socket.IO emits to per-user rooms."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import socketio

from inner_circle.server.ports import OutgoingEvent
from inner_circle.server.realtime.presence import PresenceTracker
from inner_circle.server.realtime.revocations import Revocations
from inner_circle.server.realtime.rooms import FAMILY_ROOM, user_room

__all__ = ["SocketIONotifier"]


class SocketIONotifier:
    """Delivers events through the Socket.IO server (and its Redis manager, when configured).

    Recipients are computed from the database by the use case, so membership
    changes need no room bookkeeping: every connection joins only its user's room.
    """

    def __init__(
        self,
        sio: socketio.AsyncServer,
        presence: PresenceTracker | None = None,
        revocations: Revocations | None = None,
    ) -> None:
        self._sio = sio
        self._presence = presence
        self._revocations = revocations or Revocations()

    async def publish(self, events: Sequence[OutgoingEvent]) -> None:
        for event in events:
            if event.only_sid is not None:
                await self._sio.emit(
                    event.name, event.payload, to=event.only_sid, namespace=event.namespace
                )
                continue
            if event.everyone:
                await self._sio.emit(
                    event.name, event.payload, room=FAMILY_ROOM, skip_sid=event.skip_sid
                )
                continue
            if not event.user_ids:
                continue
            rooms = [user_room(uid) for uid in dict.fromkeys(event.user_ids)]
            await self._sio.emit(
                event.name,
                event.payload,
                room=rooms,
                skip_sid=event.skip_sid,
                namespace=event.namespace,
            )

    async def disconnect_user(self, user_id: uuid.UUID) -> None:
        """The member's sessions ended (password, reset, deactivation): their sockets on
        every process re-check their grant now, and close (ADR 10)."""
        await self._revocations.announce("user", user_id)

    async def disconnect_session(self, session_id: uuid.UUID) -> None:
        """One session ended (logout, refresh-token reuse): its sockets on every process
        re-check their grant now, and close (ADR 10)."""
        await self._revocations.announce("session", session_id)
