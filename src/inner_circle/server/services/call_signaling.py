"""WebRTC signaling: offers, answers and ICE candidates relayed between the parties of a
live call (docs/calls.md); while a call rings, the caller's offer and both sides'
candidates are kept for a device that accepts later."""

from __future__ import annotations

import uuid

from inner_circle.core.actor import Actor
from inner_circle.core.errors import (
    Conflict,
    ErrorCode,
    NotFound,
    ValidationFailed,
)
from inner_circle.protocol.calls import (
    IceCandidate,
    IceCandidateIn,
    SdpIn,
)
from inner_circle.protocol.events import (
    IceRelayed,
    SdpRelayed,
)
from inner_circle.server.db.models import Call
from inner_circle.server.db.uow import UnitOfWork
from inner_circle.server.realtime.rooms import session_room
from inner_circle.server.repositories import calls as calls_repo
from inner_circle.server.services import call_state as state
from inner_circle.server.services.call_state import NAMESPACE, E

__all__ = [
    "MAX_STORED_CANDIDATES",
    "relay_ice",
    "relay_sdp",
]

MAX_STORED_CANDIDATES = 64


async def relay_sdp(uow: UnitOfWork, actor: Actor, body: SdpIn, event: str) -> None:
    """Pass an SDP offer or answer to the other party (in a group call: ``targetId``).
    A caller's offer while the call rings is kept for a callee who accepts later.

    Raises: NotFound (not a party; a target not in the group call); Conflict(CALL_ENDED).
    Emits: ``sdp_offer`` / ``sdp_answer {callId, sdp, from}`` to the peer.
    """
    if (event == E.SDP_OFFER and body.sdp.type != "offer") or (
        event == E.SDP_ANSWER and body.sdp.type not in ("answer", "pranswer")
    ):
        raise ValidationFailed(f"sdp.type {body.sdp.type!r} does not fit {event}")
    call = await state.live(uow, actor, body.call_id)
    if event == E.SDP_OFFER and call.status == "ringing" and actor.id == call.caller_id:
        locked = await calls_repo.lock(uow.session, call.id)
        if locked is not None and locked.status == "ringing":
            locked.sdp_offer = body.sdp.model_dump(mode="json", by_alias=True)
    relayed = SdpRelayed.model_validate({"callId": call.id, "sdp": body.sdp, "from": actor.id})
    await _to_peer(uow, call, actor, body.target_id, event, relayed)


async def relay_ice(uow: UnitOfWork, actor: Actor, body: IceCandidateIn) -> None:
    """Pass an ICE candidate to the other party; kept on the call while it rings (at most
    64 a side) for a callee who accepts later.

    Raises: as :func:`relay_sdp`. Emits: ``ice_candidate {callId, candidate, from}``.
    """
    call = await state.live(uow, actor, body.call_id)
    if call.status == "ringing" and call.receiver_id is not None:
        await _keep_candidate(uow, call, actor, body.candidate)
    relayed = IceRelayed.model_validate(
        {"callId": call.id, "candidate": body.candidate, "from": actor.id}
    )
    await _to_peer(uow, call, actor, body.target_id, E.ICE_CANDIDATE, relayed)


async def _keep_candidate(
    uow: UnitOfWork, call: Call, actor: Actor, candidate: IceCandidate
) -> None:
    locked = await calls_repo.lock(uow.session, call.id)
    if locked is None or locked.status != "ringing":
        return
    value = candidate.model_dump(mode="json", by_alias=True, exclude_none=True)
    if actor.id == locked.caller_id:
        kept = list(locked.caller_ice_candidates or [])
        if len(kept) < MAX_STORED_CANDIDATES:
            locked.caller_ice_candidates = [*kept, value]
    else:
        kept = list(locked.receiver_ice_candidates or [])
        if len(kept) < MAX_STORED_CANDIDATES:
            locked.receiver_ice_candidates = [*kept, value]


async def _to_peer(
    uow: UnitOfWork,
    call: Call,
    actor: Actor,
    target_id: uuid.UUID | None,
    event: str,
    payload: SdpRelayed | IceRelayed,
) -> None:
    if call.receiver_id is None:  # a group call: the target must be in it, as must I
        joined = (await calls_repo.joined_ids(uow.session, [call.id]))[call.id]
        if actor.id not in joined:
            raise Conflict("Join the group call first", ErrorCode.CALL_NOT_RINGING)
        if target_id is None or target_id == actor.id or target_id not in joined:
            raise NotFound("That member is not in this call")
        uow.emit(event, payload, [target_id], namespace=NAMESPACE)
        return
    if actor.id == call.caller_id:
        if call.status == "accepted" and call.answered_sid is not None:
            uow.emit_to_sid(event, payload, call.answered_sid, namespace=NAMESPACE)
        elif call.status == "accepted" and call.answered_session is not None:
            # The answering device is reconnecting: only its session's connections.
            room = session_room(call.answered_session)
            uow.emit_to_sid(event, payload, room, namespace=NAMESPACE)
        else:
            uow.emit(event, payload, [call.receiver_id], namespace=NAMESPACE)
    else:
        uow.emit(event, payload, [call.caller_id], namespace=NAMESPACE)
