"""The ``/calls`` namespace: WebRTC signaling and call answers (docs/calls.md).

Connecting, grants (revocation closes these sockets like the chat's), the event budget
and the ack envelope are the chat namespace's (``socket/granted.py``). Each handler
parses, then runs one use case of ``services/calls.py`` in one unit of work.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from inner_circle.core.actor import Actor
from inner_circle.core.errors import InnerCircleError
from inner_circle.protocol.calls import CallIdIn, IceCandidateIn, SdpIn
from inner_circle.protocol.events import CallClientEvent
from inner_circle.server.db.uow import UnitOfWork, UnitOfWorkFactory
from inner_circle.server.limits import Limits
from inner_circle.server.services import call_signaling, calls, group_calls
from inner_circle.server.socket.granted import GrantedNamespace, dump

__all__ = ["CallsNamespace"]

C = CallClientEvent
log = logging.getLogger(__name__)


class CallsNamespace(GrantedNamespace):
    def __init__(self, uows: UnitOfWorkFactory, limits: Limits | None = None) -> None:
        super().__init__(calls.NAMESPACE, uows, limits)

    async def _opened(self, sid: str, actor: Actor) -> None:
        try:
            async with self._uows.write() as uow:
                await calls.connection_opened(uow, actor, sid)
                await uow.commit()
        except InnerCircleError:  # the database is down: signaling finds its session room
            log.warning("could not hand a call to a reconnected connection")

    async def _closed(self, sid: str, actor: Actor) -> None:
        try:
            async with self._uows.write() as uow:
                await group_calls.connection_closed(uow, actor, sid)
                await calls.answering_connection_closed(uow, sid)
                await uow.commit()
        except InnerCircleError:  # the database is down: the sweep ends it in the end
            log.warning("could not leave the group calls of a closed connection")

    async def on_accept_call(self, sid: str, data: Any = None) -> dict[str, Any]:
        async def run(uow: UnitOfWork, actor: Actor, body: CallIdIn) -> dict[str, Any]:
            return {"call": dump(await calls.accept(uow, actor, body.call_id, sid))}

        return await self._write(sid, C.ACCEPT_CALL, CallIdIn, data, run)

    async def on_reject_call(self, sid: str, data: Any = None) -> dict[str, Any]:
        async def run(uow: UnitOfWork, actor: Actor, body: CallIdIn) -> dict[str, Any]:
            return {"call": dump(await calls.reject(uow, actor, body.call_id, sid))}

        return await self._write(sid, C.REJECT_CALL, CallIdIn, data, run)

    async def on_end_call(self, sid: str, data: Any = None) -> dict[str, Any]:
        async def run(uow: UnitOfWork, actor: Actor, body: CallIdIn) -> dict[str, Any]:
            return {"call": dump(await calls.end(uow, actor, body.call_id, sid))}

        return await self._write(sid, C.END_CALL, CallIdIn, data, run)

    async def on_sdp_offer(self, sid: str, data: Any = None) -> dict[str, Any]:
        async def run(uow: UnitOfWork, actor: Actor, body: SdpIn) -> dict[str, Any]:
            await call_signaling.relay_sdp(uow, actor, body, C.SDP_OFFER)
            return {}

        return await self._write(sid, C.SDP_OFFER, SdpIn, data, run)

    async def on_sdp_answer(self, sid: str, data: Any = None) -> dict[str, Any]:
        async def run(uow: UnitOfWork, actor: Actor, body: SdpIn) -> dict[str, Any]:
            await call_signaling.relay_sdp(uow, actor, body, C.SDP_ANSWER)
            return {}

        return await self._write(sid, C.SDP_ANSWER, SdpIn, data, run)

    async def on_ice_candidate(self, sid: str, data: Any = None) -> dict[str, Any]:
        async def run(uow: UnitOfWork, actor: Actor, body: IceCandidateIn) -> dict[str, Any]:
            await call_signaling.relay_ice(uow, actor, body)
            return {}

        return await self._write(sid, C.ICE_CANDIDATE, IceCandidateIn, data, run)

    async def on_join_group_call(self, sid: str, data: Any = None) -> dict[str, Any]:
        async def run(uow: UnitOfWork, actor: Actor, body: CallIdIn) -> dict[str, Any]:
            others = await group_calls.join_group(uow, actor, body.call_id, sid)
            return {"participants": [str(uid) for uid in others]}

        return await self._write(sid, C.JOIN_GROUP_CALL, CallIdIn, data, run)

    async def on_leave_group_call(self, sid: str, data: Any = None) -> dict[str, Any]:
        async def run(uow: UnitOfWork, actor: Actor, body: CallIdIn) -> dict[str, Any]:
            await group_calls.leave_group(uow, actor, body.call_id)
            return {}

        return await self._write(sid, C.LEAVE_GROUP_CALL, CallIdIn, data, run)

    async def _write(
        self,
        sid: str,
        event: str,
        model: Any,
        data: Any,
        use_case: Callable[[UnitOfWork, Actor, Any], Awaitable[dict[str, Any]]],
    ) -> dict[str, Any]:
        return await self._call(sid, event, model, data, use_case, write=True)
