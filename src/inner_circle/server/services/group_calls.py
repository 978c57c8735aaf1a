"""Group calls in a group or the family chat: a mesh of at most four (docs/calls.md).
The server tracks who is in and relays pairwise signaling (call_signaling.py)."""

from __future__ import annotations

import uuid

from inner_circle.core.actor import Actor
from inner_circle.core.errors import (
    Conflict,
    ErrorCode,
    ValidationFailed,
)
from inner_circle.protocol.calls import (
    CallOut,
)
from inner_circle.protocol.events import (
    CallInitiated,
    GroupCallParticipants,
    IncomingCall,
)
from inner_circle.server.access import access_chat
from inner_circle.server.db.uow import UnitOfWork
from inner_circle.server.repositories import calls as calls_repo
from inner_circle.server.repositories import chats as chats_repo
from inner_circle.server.services import call_state as state
from inner_circle.server.services.call_state import LIVE, NAMESPACE, E

__all__ = [
    "GROUP_MAX",
    "connection_closed",
    "join_group",
    "leave_group",
    "start_group",
]

GROUP_MAX = 4


async def start_group(uow: UnitOfWork, actor: Actor, chat_id: uuid.UUID, call_type: str) -> CallOut:
    chat, _ = await access_chat(uow, actor, chat_id)
    if chat.type == "private":
        raise ValidationFailed("Call the member directly: targetUserId")
    existing = await calls_repo.live_in_chat(uow.session, chat.id)
    if existing is not None:
        raise Conflict(
            "This chat already has a call; join it",
            ErrorCode.CALL_BUSY,
            details=[{"callId": str(existing.id)}],
        )
    members = await chats_repo.participant_ids(uow.session, chat.id)
    call = await state.new_call(uow, actor, call_type, receiver_id=None, chat_id=chat.id)
    await calls_repo.add_members(uow.session, call.id, members, {actor.id})
    if actor.id not in await calls_repo.take_lines(uow.session, call.id, [actor.id]):
        raise Conflict("You are already on a call", ErrorCode.CALL_BUSY)
    others = [m for m in members if m != actor.id]
    incoming = IncomingCall(
        call_id=call.id,
        remote_user_id=actor.id,
        caller_name=actor.display_name or actor.username,
        call_type=call.type,  # type: ignore[arg-type]
        chat_id=chat.id,
        is_group=True,
        ring_until=call.ring_until,
    )
    uow.emit(
        E.INCOMING_CALL,
        incoming,
        others,
        namespace=NAMESPACE,
        extra=state.ring_push(call, actor, others),
    )
    initiated = CallInitiated(call_id=call.id, status="ringing")
    uow.emit(E.CALL_INITIATED, initiated, [actor.id], namespace=NAMESPACE)
    return await state.one(uow, call)


async def join_group(
    uow: UnitOfWork, actor: Actor, call_id: uuid.UUID, sid: str | None = None
) -> list[uuid.UUID]:
    """Join a live group call; the participants already in (the joiner then sends each an
    offer). Idempotent for a member already in. Closing the connection ``sid`` leaves
    (:func:`connection_closed`).

    Raises: NotFound; ValidationFailed (a 1:1 call); Conflict(CALL_ENDED);
    Conflict(CALL_BUSY) when four are in or the actor is on another call.
    Emits: ``group_call_participants {joined}`` to everyone in the call.
    """
    call = await state.live(uow, actor, call_id)
    if call.receiver_id is not None:
        raise ValidationFailed("A 1:1 call is answered with accept_call")
    joined = (await calls_repo.joined_ids(uow.session, [call.id]))[call.id]
    if actor.id in joined:
        return [m for m in joined if m != actor.id]
    if len(joined) >= GROUP_MAX:
        raise Conflict(f"A group call takes at most {GROUP_MAX}", ErrorCode.CALL_BUSY)
    if actor.id not in await calls_repo.take_lines(uow.session, call.id, [actor.id]):
        raise Conflict("You are already on a call", ErrorCode.CALL_BUSY)
    await calls_repo.set_joined(uow.session, call.id, [actor.id], True, sid)
    if call.status == "ringing":
        await state.move(uow, call, ["ringing"], "accepted", started_at=uow.ctx.clock.now())
    everyone = [*joined, actor.id]
    update = GroupCallParticipants(call_id=call.id, participants=everyone, joined=actor.id)
    uow.emit(E.GROUP_CALL_PARTICIPANTS, update, everyone, namespace=NAMESPACE)
    return joined


async def leave_group(uow: UnitOfWork, actor: Actor, call_id: uuid.UUID) -> None:
    """Leave a group call; the last one out ends it (``ended``, or ``missed`` if nobody
    else ever joined). Raises: NotFound; ValidationFailed (a 1:1 call).

    Emits: ``group_call_participants {left}`` to those still in; when it ends,
    ``call_ended`` to every member it was for.
    """
    call = await state.party(uow, actor, call_id)
    if call.receiver_id is not None:
        raise ValidationFailed("A 1:1 call is ended with end_call")
    joined = (await calls_repo.joined_ids(uow.session, [call.id]))[call.id]
    if actor.id not in joined or call.status not in LIVE:
        return
    await calls_repo.set_joined(uow.session, call.id, [actor.id], False)
    await calls_repo.release_lines(uow.session, call.id, [actor.id])
    rest = [m for m in joined if m != actor.id]
    if rest:
        update = GroupCallParticipants(call_id=call.id, participants=rest, left=actor.id)
        uow.emit(E.GROUP_CALL_PARTICIPANTS, update, rest, namespace=NAMESPACE)
        return
    status, reason = ("ended", "hangup") if call.status == "accepted" else ("missed", "cancelled")
    moved = await state.move(uow, call, [call.status], status, reason)
    if moved is None:
        return
    members = await calls_repo.member_ids(uow.session, call.id)
    ringing = [m for m in members if m != actor.id] if reason == "cancelled" else []
    extra = state.stop_ringing(moved, ringing) if ringing else None
    uow.emit(
        E.CALL_ENDED, state.ended_event(moved, reason), members, namespace=NAMESPACE, extra=extra
    )


async def connection_closed(uow: UnitOfWork, actor: Actor, sid: str) -> None:
    """A ``/calls`` connection closed: its member leaves the group calls joined from it
    (a 1:1 call goes on: its media does not need the signaling connection)."""
    for call_id in await calls_repo.joined_from(uow.session, sid):
        await leave_group(uow, actor, call_id)
