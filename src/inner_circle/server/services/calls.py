"""Calls: one state machine for every way a call changes (docs/calls.md, ADR 16).

Statuses: ``ringing`` and ``accepted`` are live; ``ended``, ``rejected``, ``missed``,
``busy`` and ``failed`` are final. Every change is a conditional UPDATE from the
statuses it may leave (``call_state.move``), so two devices accepting at once, or a hang-up
racing an accept, are decided by the database, on any number of server processes. A
member on a live call holds a *line* (``call_lines``): a second call finds it taken
and is ``busy``. The final change frees the lines, forgets the SDP and candidates, and
writes the call's entry into the chat through the normal send path.

This module holds the use cases of a call's life; the core is ``call_state.py``,
signaling ``call_signaling.py``, group calls ``group_calls.py``, chat entries
``call_entries.py``. Events go to the ``/calls`` namespace after the commit;
``extra["push"]`` on an event asks the push dispatch for a call notification to
``extra["pushTo"]`` (server/push/dispatch.py).
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from inner_circle.core.actor import Actor
from inner_circle.core.errors import (
    Conflict,
    ErrorCode,
    Forbidden,
    NotFound,
    ValidationFailed,
)
from inner_circle.core.turn import turn_credential
from inner_circle.protocol.calls import (
    CallOut,
    IceServer,
    InitiateCallIn,
    WebRtcConfigOut,
)
from inner_circle.protocol.events import (
    CallAccepted,
    CallAnsweredElsewhere,
    CallInitiated,
    CallRejected,
    IncomingCall,
)
from inner_circle.server.db.models import Call
from inner_circle.server.db.uow import UnitOfWork
from inner_circle.server.repositories import calls as calls_repo
from inner_circle.server.repositories import users as users_repo
from inner_circle.server.services import call_state as state
from inner_circle.server.services import group_calls
from inner_circle.server.services.call_state import FINAL, LIVE, NAMESPACE, NOT_FOUND, E

__all__ = [
    "NAMESPACE",
    "accept",
    "answering_connection_closed",
    "connection_opened",
    "end",
    "expire",
    "expired_calls",
    "get_call",
    "hide",
    "history",
    "initiate",
    "live_calls",
    "public_reject",
    "reject",
    "webrtc_config",
]


async def get_call(uow: UnitOfWork, actor: Actor, call_id: uuid.UUID) -> CallOut:
    """A call the actor was a party of (the callee resumes from its SDP offer and
    candidates). Raises NotFound for anyone else."""
    return await state.one(uow, await state.party(uow, actor, call_id))


async def history(uow: UnitOfWork, actor: Actor, limit: int, offset: int) -> list[CallOut]:
    """The actor's calls, newest first (without those they removed)."""
    return await state.outs(uow, await calls_repo.history(uow.session, actor.id, limit, offset))


async def live_calls(uow: UnitOfWork, actor: Actor) -> list[CallOut]:
    """The actor's ringing and accepted calls."""
    return await state.outs(uow, await calls_repo.live_for(uow.session, actor.id))


def webrtc_config(uow: UnitOfWork, actor: Actor) -> WebRtcConfigOut:
    """STUN servers, and TURN with a credential for this member that expires on its own."""
    settings = uow.ctx.settings
    ttl = settings.turn_ttl_seconds
    stun = list(settings.stun_urls)
    servers: list[IceServer] = []
    if settings.turn_urls and settings.turn_secret:
        if not stun:  # coturn answers STUN on its TURN ports too
            stun = [_as_stun(url) for url in settings.turn_urls if url.startswith("turn:")]
        expires = int(uow.ctx.clock.now().timestamp()) + ttl
        username, credential = turn_credential(settings.turn_secret, str(actor.id), expires)
        servers.append(
            IceServer(urls=list(settings.turn_urls), username=username, credential=credential)
        )
    stun = list(dict.fromkeys(stun))
    return WebRtcConfigOut(ice_servers=([IceServer(urls=stun)] if stun else []) + servers, ttl=ttl)


def _as_stun(turn_url: str) -> str:
    return "stun:" + turn_url.removeprefix("turn:").split("?", 1)[0]


async def initiate(uow: UnitOfWork, actor: Actor, body: InitiateCallIn) -> CallOut:
    """Start a call: to ``targetUserId`` (1:1) or in ``chatId`` (a group call).

    Guarantees: the caller and callee are put on the call's line in one statement each;
    a callee already on a call makes this call ``busy`` at once (stored, entry written).

    Raises:
        ValidationFailed: calling oneself; a private chat as a group call.
        NotFound: no such active member; a chat the actor is not in.
        Conflict(CALL_BUSY): the actor is already on a call; the chat already has a
            live group call (``details: [{callId}]``: join it).

    Emits: ``incoming_call`` to the callee's (the other members') ``/calls`` connections
    with a call push; ``call_initiated`` to the caller's; for a busy callee
    ``call_rejected {reason: "busy"}`` to the caller.
    """
    if body.chat_id is not None:
        return await group_calls.start_group(uow, actor, body.chat_id, body.type)
    assert body.target_user_id is not None
    if body.target_user_id == actor.id:
        raise ValidationFailed("You cannot call yourself")
    target = await users_repo.by_id(uow.session, body.target_user_id)
    if target is None or not target.is_active:
        raise NotFound("User not found")
    call = await state.new_call(uow, actor, body.type, receiver_id=target.id, chat_id=None)
    await calls_repo.add_members(uow.session, call.id, [actor.id, target.id], {actor.id})
    taken = await calls_repo.take_lines(uow.session, call.id, [actor.id, target.id])
    if actor.id not in taken:
        raise Conflict("You are already on a call", ErrorCode.CALL_BUSY)
    initiated = CallInitiated(call_id=call.id, status="ringing")
    if target.id not in taken:
        busy = await state.move(uow, call, ["ringing"], "busy", "busy")
        assert busy is not None
        initiated.status = "busy"
        uow.emit(E.CALL_INITIATED, initiated, [actor.id], namespace=NAMESPACE)
        rejected = CallRejected(call_id=call.id, reason="busy")
        uow.emit(E.CALL_REJECTED, rejected, [actor.id], namespace=NAMESPACE)
        return await state.one(uow, busy)
    incoming = IncomingCall(
        call_id=call.id,
        remote_user_id=actor.id,
        caller_name=actor.display_name or actor.username,
        call_type=call.type,  # type: ignore[arg-type]
        ring_until=call.ring_until,
    )
    uow.emit(
        E.INCOMING_CALL,
        incoming,
        [target.id],
        namespace=NAMESPACE,
        extra=state.ring_push(call, actor, [target.id]),
    )
    uow.emit(E.CALL_INITIATED, initiated, [actor.id], namespace=NAMESPACE)
    return await state.one(uow, call)


async def accept(
    uow: UnitOfWork, actor: Actor, call_id: uuid.UUID, sid: str | None = None
) -> CallOut:
    """The callee takes a ringing call on the device ``sid`` (None: over REST).

    Guarantees: of several devices accepting at once exactly one succeeds; the call's
    later signaling to the callee goes to that device only.

    Raises: NotFound; Forbidden (the caller, or a group call: join it);
    Conflict(CALL_NOT_RINGING / CALL_ENDED) when it stopped ringing meanwhile.

    Emits: ``call_accepted`` to the caller; ``call_answered_elsewhere`` and ``call_ended
    {status: accepted}`` to the callee's other devices (when ``sid`` is known), with a
    ``call-ended`` push to the callee's hidden devices.
    """
    call = await state.party(uow, actor, call_id)
    if call.receiver_id != actor.id:
        raise Forbidden("Only the callee can accept a call; a group call is joined")
    moved = await state.move(
        uow,
        call,
        ["ringing"],
        "accepted",
        started_at=uow.ctx.clock.now(),
        answered_sid=sid,
        answered_session=actor.session_id if sid is not None else None,
    )
    if moved is None:
        raise state.not_live(await state.reload(uow, call))
    await calls_repo.set_joined(uow.session, call.id, [call.caller_id, actor.id], True)
    stop = state.stop_ringing(moved, [actor.id])
    accepted = CallAccepted(call_id=call.id, receiver_id=actor.id)
    uow.emit(E.CALL_ACCEPTED, accepted, [call.caller_id], namespace=NAMESPACE, extra=stop)
    if sid is not None:
        elsewhere = CallAnsweredElsewhere(call_id=call.id)
        uow.emit(
            E.CALL_ANSWERED_ELSEWHERE, elsewhere, [actor.id], skip_sid=sid, namespace=NAMESPACE
        )
        uow.emit(
            E.CALL_ENDED,
            state.ended_event(moved, "answered_elsewhere"),
            [actor.id],
            skip_sid=sid,
            namespace=NAMESPACE,
        )
    return await state.one(uow, moved)


async def reject(
    uow: UnitOfWork, actor: Actor, call_id: uuid.UUID, sid: str | None = None
) -> CallOut:
    """The callee declines a ringing call (a group call: only stops ringing here).

    Raises: NotFound; Forbidden (the caller: hang up instead); Conflict(CALL_NOT_RINGING).
    Emits: ``call_rejected {reason: declined}`` to the caller; ``call_ended`` to the
    callee's other devices, with a ``call-ended`` push.
    """
    call = await state.party(uow, actor, call_id)
    if call.receiver_id is None:
        return await state.one(uow, call)
    if call.receiver_id != actor.id:
        raise Forbidden("Only the callee can decline; the caller hangs up")
    return await state.one(uow, await _decline(uow, call, sid))


async def public_reject(uow: UnitOfWork, call_id: uuid.UUID) -> None:
    """The seed's tokenless decline button: declines a *ringing* 1:1 call by its id.

    Raises: NotFound for an unknown id and for a call that is not ringing alike.
    Emits: as :func:`reject`.
    """
    call = await calls_repo.by_id(uow.session, call_id)
    if call is None or call.receiver_id is None or call.status != "ringing":
        raise NotFound(NOT_FOUND)
    await _decline(uow, call, None)


async def _decline(uow: UnitOfWork, call: Call, sid: str | None) -> Call:
    moved = await state.move(uow, call, ["ringing"], "rejected", "declined")
    if moved is None:
        raise state.not_live(await state.reload(uow, call))
    assert call.receiver_id is not None
    rejected = CallRejected(call_id=call.id, reason="declined")
    uow.emit(E.CALL_REJECTED, rejected, [call.caller_id], namespace=NAMESPACE)
    uow.emit(
        E.CALL_ENDED,
        state.ended_event(moved, "declined"),
        [call.receiver_id],
        skip_sid=sid,
        namespace=NAMESPACE,
        extra=state.stop_ringing(moved, [call.receiver_id]),
    )
    return moved


async def connection_opened(uow: UnitOfWork, actor: Actor, sid: str) -> None:
    """A ``/calls`` connection opened: if the connection of this sign-in session that
    answered a call closed (the device reconnects), this one takes its place: the other
    side's signaling (an ICE restart after a network change) reaches it."""
    if actor.session_id is not None:
        await calls_repo.attach_answer(uow.session, actor.id, actor.session_id, sid)


async def answering_connection_closed(uow: UnitOfWork, sid: str) -> None:
    """A ``/calls`` connection closed; a call it answered waits for its session's next one
    (:func:`connection_opened`). The call itself goes on: the media does not need it."""
    await calls_repo.detach_answer(uow.session, sid)


async def end(uow: UnitOfWork, actor: Actor, call_id: uuid.UUID, sid: str | None = None) -> CallOut:
    """A party hangs up: an accepted call ends; a ringing call is cancelled by the caller
    (``missed``) or declined by the callee (``rejected``); a group call: the actor leaves.

    Guarantees: a hang-up racing an accept is never lost: whichever commits first
    wins, and the hang-up then applies to the state it left.

    Raises: NotFound; Conflict(CALL_ENDED) when the call is already final.
    Emits: ``call_ended {status, reason}`` to every party's devices but ``sid`` (the
    callee's ringing ones get a ``call-ended`` push).
    """
    for _ in range(3):
        call = await state.party(uow, actor, call_id)
        if call.receiver_id is None:
            await group_calls.leave_group(uow, actor, call_id)
            return await state.one(uow, await state.reload(uow, call))
        if call.status in FINAL:
            raise state.not_live(call)
        if call.status == "ringing" and actor.id == call.receiver_id:
            return await state.one(uow, await _decline(uow, call, sid))
        if call.status == "ringing":
            moved = await state.move(uow, call, ["ringing"], "missed", "cancelled")
        else:
            moved = await state.move(uow, call, ["accepted"], "ended", "hangup")
        if moved is None:
            continue  # it changed meanwhile: apply the hang-up to what it became
        parties = [call.caller_id, call.receiver_id]
        reason = moved.end_reason
        extra = state.stop_ringing(moved, [call.receiver_id]) if reason == "cancelled" else None
        uow.emit(
            E.CALL_ENDED,
            state.ended_event(moved, reason),
            parties,
            skip_sid=sid,
            namespace=NAMESPACE,
            extra=extra,
        )
        return await state.one(uow, moved)
    raise Conflict("The call is changing; try again", ErrorCode.CALL_NOT_RINGING)


async def hide(uow: UnitOfWork, actor: Actor, call_id: uuid.UUID) -> None:
    """Remove a call from the actor's history (a live one is hung up first); the other
    party keeps theirs. Raises NotFound."""
    call = await state.party(uow, actor, call_id)
    if call.status in LIVE:
        try:
            await end(uow, actor, call_id)
        except Conflict:
            pass  # it ended meanwhile
    await calls_repo.set_hidden(uow.session, call.id, actor.id)


async def expired_calls(uow: UnitOfWork) -> list[uuid.UUID]:
    """Calls the sweep must end: unanswered past their ring time, or accepted too long."""
    now = uow.ctx.clock.now()
    longest = timedelta(seconds=uow.ctx.settings.call_max_seconds)
    return await calls_repo.expired(uow.session, now, now - longest)


async def expire(uow: UnitOfWork, call_id: uuid.UUID) -> bool:
    """End one call the sweep found: ringing → ``missed`` (timeout), accepted → ``failed``.
    Any process may run it at any time: the conditional UPDATE ends a call once.

    Emits: ``call_ended`` to every member of the call; a ``call-ended`` push to those
    it was ringing for.
    """
    call = await calls_repo.by_id(uow.session, call_id)
    if call is None:
        return False
    now = uow.ctx.clock.now()
    was_ringing = call.status == "ringing"  # ``call`` is refreshed by the move
    if was_ringing and call.ring_until <= now:
        moved = await state.move(uow, call, ["ringing"], "missed", "timeout")
    elif call.status == "accepted":
        moved = await state.move(uow, call, ["accepted"], "failed", "failed")
    else:
        return False
    if moved is None:
        return False
    members = await calls_repo.member_ids(uow.session, call.id)
    ringing = [m for m in members if m != call.caller_id] if was_ringing else []
    extra = state.stop_ringing(moved, ringing) if ringing else None
    uow.emit(
        E.CALL_ENDED,
        state.ended_event(moved, moved.end_reason),
        members,
        namespace=NAMESPACE,
        extra=extra,
    )
    return True
