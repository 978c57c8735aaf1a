"""/calls: the seed's calls REST (docs/calls.md). The signaling itself is on the
``/calls`` Socket.IO namespace (socket/calls.py)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from inner_circle.protocol.calls import (
    AckOut,
    CallOut,
    CallRespondIn,
    InitiateCallIn,
    PublicRespondIn,
    WebRtcConfigOut,
)
from inner_circle.protocol.rest import RemovedOut
from inner_circle.server.http.deps import ClientAddress, CurrentActor, RateLimits, Uow
from inner_circle.server.services import calls

router = APIRouter(prefix="/calls", tags=["calls"])

HISTORY_MAX = 100


@router.post("/initiate", response_model=CallOut, status_code=201, operation_id="initiateCall")
async def initiate(
    body: InitiateCallIn, actor: CurrentActor, uows: Uow, limits: RateLimits
) -> CallOut:
    """Ring a member (``targetUserId``) or start a group call in a chat (``chatId``): 201
    with the call, ``status: busy`` when the callee is on another call."""
    await limits.call_started(actor.id)
    async with uows.write() as uow:
        call = await calls.initiate(uow, actor, body)
        await uow.commit()
    return call


@router.get("/webrtc-config", response_model=WebRtcConfigOut, operation_id="webrtcConfig")
async def webrtc_config(actor: CurrentActor, uows: Uow) -> WebRtcConfigOut:
    """STUN and TURN servers; the TURN credential is mine and expires after ``ttl`` seconds."""
    async with uows.read() as uow:
        return calls.webrtc_config(uow, actor)


@router.get("/history", response_model=list[CallOut], operation_id="callHistory")
async def history(
    actor: CurrentActor,
    uows: Uow,
    limit: Annotated[int, Query(ge=1, le=HISTORY_MAX)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[CallOut]:
    """My calls, newest first."""
    async with uows.read() as uow:
        return await calls.history(uow, actor, limit, offset)


@router.get("/active", response_model=list[CallOut], operation_id="activeCalls")
async def active(actor: CurrentActor, uows: Uow) -> list[CallOut]:
    """My ringing and accepted calls."""
    async with uows.read() as uow:
        return await calls.live_calls(uow, actor)


@router.post("/public/respond", response_model=AckOut, operation_id="declineCallPublicly")
async def public_respond(
    body: PublicRespondIn, uows: Uow, limits: RateLimits, address: ClientAddress
) -> AckOut:
    """The native decline button (no token): declines a ringing call by its id. An unknown
    id and a call that is not ringing answer the same 404."""
    await limits.call_declined_publicly(address)
    async with uows.write() as uow:
        await calls.public_reject(uow, body.call_id)
        await uow.commit()
    return AckOut(ok=True)


@router.post("/respond", response_model=CallOut, operation_id="respondToCall")
async def respond(body: CallRespondIn, actor: CurrentActor, uows: Uow) -> CallOut:
    """Accept or decline a call ringing for me."""
    async with uows.write() as uow:
        if body.action == "accept":
            call = await calls.accept(uow, actor, body.call_id)
        else:
            call = await calls.reject(uow, actor, body.call_id)
        await uow.commit()
    return call


@router.get("/{call_id}", response_model=CallOut, operation_id="getCall")
async def get_call(call_id: uuid.UUID, actor: CurrentActor, uows: Uow) -> CallOut:
    """One of my calls, with the SDP offer and candidates while it rings."""
    async with uows.read() as uow:
        return await calls.get_call(uow, actor, call_id)


@router.post("/{call_id}/end", response_model=CallOut, operation_id="endCall")
async def end(call_id: uuid.UUID, actor: CurrentActor, uows: Uow) -> CallOut:
    """Hang up (a ringing call I started is cancelled; one ringing for me is declined)."""
    async with uows.write() as uow:
        call = await calls.end(uow, actor, call_id)
        await uow.commit()
    return call


@router.delete("/{call_id}", response_model=RemovedOut, operation_id="removeCall")
async def remove(call_id: uuid.UUID, actor: CurrentActor, uows: Uow) -> RemovedOut:
    """Remove a call from my history (the other side keeps theirs)."""
    async with uows.write() as uow:
        await calls.hide(uow, actor, call_id)
        await uow.commit()
    return RemovedOut(message="Call removed from your history")
