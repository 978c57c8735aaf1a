"""The chat namespace, plus what push notifications need to know of each connection:
whether its client is visible. A connection counts as visible from the moment it
joins until its client sends ``visibility {hidden: true}`` (the web client does when
its tab goes to the background) or it closes."""

from __future__ import annotations

import uuid
from typing import Any

from inner_circle.core.actor import Actor
from inner_circle.protocol.events import ClientEvent
from inner_circle.protocol.push import VisibilityIn
from inner_circle.server.db.uow import UnitOfWorkFactory
from inner_circle.server.limits import Limits
from inner_circle.server.observability.metrics import Metrics
from inner_circle.server.observability.socket import ObservedNamespace
from inner_circle.server.push.visibility import VisibilityTracker
from inner_circle.server.services.group_commit import SendBatcher
from inner_circle.server.socket.acks import success
from inner_circle.server.socket.granted import parse

__all__ = ["VisibilityNamespace"]


class VisibilityNamespace(ObservedNamespace):
    def __init__(
        self,
        uows: UnitOfWorkFactory,
        sends: SendBatcher,
        limits: Limits | None,
        metrics: Metrics,
        visibility: VisibilityTracker,
    ) -> None:
        super().__init__(uows, sends, limits, metrics)
        self._visibility = visibility
        # sid → (session, visible) for this process's connections
        self._shown: dict[str, tuple[uuid.UUID, bool]] = {}

    def _session(self, sid: str) -> uuid.UUID | None:
        grant = self._grants.get(sid)
        return grant.claims.session_id if grant is not None else None

    async def on_connect(self, sid: str, environ: dict[str, Any], auth_payload: Any = None) -> None:
        await super().on_connect(sid, environ, auth_payload)
        session_id = self._session(sid)
        if session_id is not None:
            self._shown[sid] = (session_id, True)
            await self._visibility.set_state(session_id, sid, True)

    async def on_disconnect(self, sid: str, reason: Any = None) -> None:
        shown = self._shown.pop(sid, None)
        try:
            if shown is not None:
                await self._visibility.forget(shown[0], sid)
        finally:
            await super().on_disconnect(sid, reason)

    async def on_reauth(self, sid: str, data: Any = None) -> dict[str, Any]:
        ack = await super().on_reauth(sid, data)
        shown = self._shown.get(sid)
        session_id = self._session(sid)
        if shown is not None and session_id is not None and session_id != shown[0]:
            await self._visibility.forget(shown[0], sid)
            self._shown[sid] = (session_id, shown[1])
            await self._visibility.set_state(session_id, sid, shown[1])
        return ack

    async def on_visibility(self, sid: str, data: Any = None) -> dict[str, Any]:
        """``visibility {hidden}``: whether this connection's client is on screen."""

        async def record(actor: Actor) -> dict[str, Any]:
            body = parse(VisibilityIn, data)
            session_id = self._session(sid)
            if session_id is not None:
                self._shown[sid] = (session_id, not body.hidden)
                await self._visibility.set_state(session_id, sid, not body.hidden)
            return success(hidden=body.hidden)

        return await self._handle(sid, ClientEvent.VISIBILITY, record)
