"""Calls: one state machine for every way a call changes (docs/calls.md, ADR 16).

Statuses: ``ringing`` and ``accepted`` are live; ``ended``, ``rejected``, ``missed``,
``busy`` and ``failed`` are final. Every change is a conditional UPDATE from the
statuses it may leave (:func:`_move`), so two devices accepting at once, or a hang-up
racing an accept, are decided by the database, on any number of server processes. A
member on a live call holds a *line* (``call_lines``): a second call finds it taken
and is ``busy``. The final change frees the lines, forgets the SDP and candidates, and
writes the call's entry into the chat through the normal send path.

Events go to the ``/calls`` namespace after the commit; ``extra["push"]`` on an event
asks the push dispatch for a call notification to ``extra["pushTo"]``
(server/push/dispatch.py).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import timedelta
from typing import Any

from inner_circle.core.actor import Actor
from inner_circle.core.errors import (
    Conflict,
    ErrorCode,
    Forbidden,
    InnerCircleError,
    NotFound,
    ValidationFailed,
)
from inner_circle.core.turn import turn_credential
from inner_circle.protocol.calls import (
    CallOut,
    IceCandidate,
    IceCandidateIn,
    IceServer,
    InitiateCallIn,
    SdpIn,
    WebRtcConfigOut,
)
from inner_circle.protocol.events import (
    CallAccepted,
    CallAnsweredElsewhere,
    CallEnded,
    CallInitiated,
    CallRejected,
    CallServerEvent,
    GroupCallParticipants,
    IceRelayed,
    IncomingCall,
    SdpRelayed,
)
from inner_circle.protocol.rest import CallSummary, SendMessageIn
from inner_circle.server.access import access_chat
from inner_circle.server.db.models import Call, User
from inner_circle.server.db.uow import UnitOfWork
from inner_circle.server.repositories import calls as calls_repo
from inner_circle.server.repositories import chats as chats_repo
from inner_circle.server.repositories import users as users_repo
from inner_circle.server.services import chats as chat_service
from inner_circle.server.services import messages
from inner_circle.server.services.views import user_brief

__all__ = [
    "GROUP_MAX",
    "NAMESPACE",
    "accept",
    "end",
    "entry_text",
    "expire",
    "expired_calls",
    "get_call",
    "hide",
    "history",
    "initiate",
    "join_group",
    "leave_group",
    "live_calls",
    "public_reject",
    "reject",
    "relay_ice",
    "relay_sdp",
    "webrtc_config",
]

NAMESPACE = "/calls"
E = CallServerEvent
LIVE = frozenset({"ringing", "accepted"})
FINAL = frozenset({"ended", "rejected", "missed", "busy", "failed"})
GROUP_MAX = 4
MAX_STORED_CANDIDATES = 64
NOT_FOUND = "Call not found"


# --- reading ------------------------------------------------------------------------


async def _party(uow: UnitOfWork, actor: Actor, call_id: uuid.UUID) -> Call:
    """The call, if the actor is one it was for; else NotFound (nothing leaks)."""
    found = await calls_repo.membership(uow.session, call_id, actor.id)
    if found is None:
        raise NotFound(NOT_FOUND)
    return found[0]


async def _outs(uow: UnitOfWork, calls: Sequence[Call]) -> list[CallOut]:
    ids = {c.caller_id for c in calls} | {c.receiver_id for c in calls if c.receiver_id}
    users = await users_repo.by_ids(uow.session, ids)
    joined = await calls_repo.joined_ids(uow.session, [c.id for c in calls])
    return [_out(call, users, joined[call.id]) for call in calls]


def _out(call: Call, users: dict[uuid.UUID, User], joined: list[uuid.UUID]) -> CallOut:
    receiver = users.get(call.receiver_id) if call.receiver_id else None
    return CallOut(
        id=call.id,
        caller_id=call.caller_id,
        receiver_id=call.receiver_id,
        chat_id=call.chat_id,
        status=call.status,  # type: ignore[arg-type]
        type=call.type,  # type: ignore[arg-type]
        started_at=call.started_at,
        ended_at=call.ended_at,
        duration=call.duration if call.duration is not None else 0,
        duration_ms=call.duration_ms if call.duration_ms is not None else 0,
        end_reason=call.end_reason,
        caller_ice_candidates=call.caller_ice_candidates or [],
        receiver_ice_candidates=call.receiver_ice_candidates or [],
        sdp_offer=call.sdp_offer,  # type: ignore[arg-type]
        ring_until=call.ring_until,
        created_at=call.created_at,
        updated_at=call.updated_at,
        caller=user_brief(users[call.caller_id]),
        receiver=user_brief(receiver) if receiver is not None else None,
        participants=joined,
    )


async def _one(uow: UnitOfWork, call: Call) -> CallOut:
    return (await _outs(uow, [call]))[0]


async def get_call(uow: UnitOfWork, actor: Actor, call_id: uuid.UUID) -> CallOut:
    """A call the actor was a party of (the callee resumes from its SDP offer and
    candidates). Raises NotFound for anyone else."""
    return await _one(uow, await _party(uow, actor, call_id))


async def history(uow: UnitOfWork, actor: Actor, limit: int, offset: int) -> list[CallOut]:
    """The actor's calls, newest first (without those they removed)."""
    return await _outs(uow, await calls_repo.history(uow.session, actor.id, limit, offset))


async def live_calls(uow: UnitOfWork, actor: Actor) -> list[CallOut]:
    """The actor's ringing and accepted calls."""
    return await _outs(uow, await calls_repo.live_for(uow.session, actor.id))


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


# --- the state machine --------------------------------------------------------------


async def _move(
    uow: UnitOfWork,
    call: Call,
    allowed_from: Iterable[str],
    status: str,
    reason: str | None = None,
    **values: Any,
) -> Call | None:
    """Change ``call`` to ``status`` if it is still in ``allowed_from``; the changed call,
    or None when another transaction changed it first. A final status frees the lines,
    forgets SDP and candidates, and writes the chat entry."""
    now = uow.ctx.clock.now()
    values.update(status=status, updated_at=now)
    if status in FINAL:
        started = values.get("started_at", call.started_at)
        ms = int((now - started).total_seconds() * 1000) if started is not None else 0
        values.update(
            ended_at=now,
            end_reason=reason,
            duration=ms // 1000,
            duration_ms=ms,
            sdp_offer=None,
            caller_ice_candidates=None,
            receiver_ice_candidates=None,
        )
    if not await calls_repo.transition(uow.session, call.id, set(allowed_from), values):
        return None
    changed = await calls_repo.by_id(uow.session, call.id)
    assert changed is not None
    if status in FINAL:
        members = await calls_repo.member_ids(uow.session, call.id)
        await calls_repo.release_lines(uow.session, call.id)
        await calls_repo.set_joined(uow.session, call.id, members, False)
        await _write_entry(uow, changed)
    return changed


def _not_live(call: Call) -> InnerCircleError:
    if call.status in FINAL:
        return Conflict("The call has ended", ErrorCode.CALL_ENDED)
    return Conflict("The call is no longer ringing", ErrorCode.CALL_NOT_RINGING)


def _ended(call: Call, reason: str | None) -> CallEnded:
    return CallEnded(call_id=call.id, status=call.status, reason=reason)  # type: ignore[arg-type]


def _stop_ringing(call: Call, to: Iterable[uuid.UUID]) -> dict[str, Any]:
    """``extra`` asking for a ``call-ended`` push to ``to`` (their ringing notification)."""
    push = {"type": "call-ended", "callId": str(call.id), "status": call.status}
    return {"push": push, "pushTo": list(to)}


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
        return await _start_group(uow, actor, body.chat_id, body.type)
    assert body.target_user_id is not None
    if body.target_user_id == actor.id:
        raise ValidationFailed("You cannot call yourself")
    target = await users_repo.by_id(uow.session, body.target_user_id)
    if target is None or not target.is_active:
        raise NotFound("User not found")
    call = await _new_call(uow, actor, body.type, receiver_id=target.id, chat_id=None)
    await calls_repo.add_members(uow.session, call.id, [actor.id, target.id], {actor.id})
    taken = await calls_repo.take_lines(uow.session, call.id, [actor.id, target.id])
    if actor.id not in taken:
        raise Conflict("You are already on a call", ErrorCode.CALL_BUSY)
    initiated = CallInitiated(call_id=call.id, status="ringing")
    if target.id not in taken:
        busy = await _move(uow, call, ["ringing"], "busy", "busy")
        assert busy is not None
        initiated.status = "busy"
        uow.emit(E.CALL_INITIATED, initiated, [actor.id], namespace=NAMESPACE)
        rejected = CallRejected(call_id=call.id, reason="busy")
        uow.emit(E.CALL_REJECTED, rejected, [actor.id], namespace=NAMESPACE)
        return await _one(uow, busy)
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
        extra=_ring(call, actor, [target.id]),
    )
    uow.emit(E.CALL_INITIATED, initiated, [actor.id], namespace=NAMESPACE)
    return await _one(uow, call)


def _ring(call: Call, actor: Actor, to: list[uuid.UUID]) -> dict[str, Any]:
    push = {
        "type": "call",
        "callId": str(call.id),
        "callType": call.type,
        "callerId": str(actor.id),
        "callerName": actor.display_name or actor.username,
        "chatId": str(call.chat_id) if call.chat_id else None,
        "expiresAt": call.ring_until.isoformat().replace("+00:00", "Z"),
    }
    return {"push": push, "pushTo": to}


async def _new_call(
    uow: UnitOfWork,
    actor: Actor,
    call_type: str,
    *,
    receiver_id: uuid.UUID | None,
    chat_id: uuid.UUID | None,
) -> Call:
    now = uow.ctx.clock.now()
    call = Call(
        id=uuid.uuid4(),  # random: the public decline route takes only this id
        caller_id=actor.id,
        receiver_id=receiver_id,
        chat_id=chat_id,
        status="ringing",
        type=call_type,
        ring_until=now + timedelta(seconds=uow.ctx.settings.call_ring_seconds),
        created_at=now,
        updated_at=now,
    )
    uow.session.add(call)
    await uow.session.flush()
    return call


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
    call = await _party(uow, actor, call_id)
    if call.receiver_id != actor.id:
        raise Forbidden("Only the callee can accept a call; a group call is joined")
    moved = await _move(
        uow, call, ["ringing"], "accepted", started_at=uow.ctx.clock.now(), answered_sid=sid
    )
    if moved is None:
        raise _not_live(await _reload(uow, call))
    await calls_repo.set_joined(uow.session, call.id, [call.caller_id, actor.id], True)
    stop = _stop_ringing(moved, [actor.id])
    accepted = CallAccepted(call_id=call.id, receiver_id=actor.id)
    uow.emit(E.CALL_ACCEPTED, accepted, [call.caller_id], namespace=NAMESPACE, extra=stop)
    if sid is not None:
        elsewhere = CallAnsweredElsewhere(call_id=call.id)
        uow.emit(
            E.CALL_ANSWERED_ELSEWHERE, elsewhere, [actor.id], skip_sid=sid, namespace=NAMESPACE
        )
        uow.emit(
            E.CALL_ENDED,
            _ended(moved, "answered_elsewhere"),
            [actor.id],
            skip_sid=sid,
            namespace=NAMESPACE,
        )
    return await _one(uow, moved)


async def _reload(uow: UnitOfWork, call: Call) -> Call:
    fresh = await calls_repo.by_id(uow.session, call.id)
    assert fresh is not None
    return fresh


async def reject(
    uow: UnitOfWork, actor: Actor, call_id: uuid.UUID, sid: str | None = None
) -> CallOut:
    """The callee declines a ringing call (a group call: only stops ringing here).

    Raises: NotFound; Forbidden (the caller: hang up instead); Conflict(CALL_NOT_RINGING).
    Emits: ``call_rejected {reason: declined}`` to the caller; ``call_ended`` to the
    callee's other devices, with a ``call-ended`` push.
    """
    call = await _party(uow, actor, call_id)
    if call.receiver_id is None:
        return await _one(uow, call)
    if call.receiver_id != actor.id:
        raise Forbidden("Only the callee can decline; the caller hangs up")
    return await _one(uow, await _decline(uow, call, sid))


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
    moved = await _move(uow, call, ["ringing"], "rejected", "declined")
    if moved is None:
        raise _not_live(await _reload(uow, call))
    assert call.receiver_id is not None
    rejected = CallRejected(call_id=call.id, reason="declined")
    uow.emit(E.CALL_REJECTED, rejected, [call.caller_id], namespace=NAMESPACE)
    uow.emit(
        E.CALL_ENDED,
        _ended(moved, "declined"),
        [call.receiver_id],
        skip_sid=sid,
        namespace=NAMESPACE,
        extra=_stop_ringing(moved, [call.receiver_id]),
    )
    return moved


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
        call = await _party(uow, actor, call_id)
        if call.receiver_id is None:
            await leave_group(uow, actor, call_id)
            return await _one(uow, await _reload(uow, call))
        if call.status in FINAL:
            raise _not_live(call)
        if call.status == "ringing" and actor.id == call.receiver_id:
            return await _one(uow, await _decline(uow, call, sid))
        if call.status == "ringing":
            moved = await _move(uow, call, ["ringing"], "missed", "cancelled")
        else:
            moved = await _move(uow, call, ["accepted"], "ended", "hangup")
        if moved is None:
            continue  # it changed meanwhile: apply the hang-up to what it became
        parties = [call.caller_id, call.receiver_id]
        reason = moved.end_reason
        extra = _stop_ringing(moved, [call.receiver_id]) if reason == "cancelled" else None
        uow.emit(
            E.CALL_ENDED,
            _ended(moved, reason),
            parties,
            skip_sid=sid,
            namespace=NAMESPACE,
            extra=extra,
        )
        return await _one(uow, moved)
    raise Conflict("The call is changing; try again", ErrorCode.CALL_NOT_RINGING)


async def hide(uow: UnitOfWork, actor: Actor, call_id: uuid.UUID) -> None:
    """Remove a call from the actor's history (a live one is hung up first); the other
    party keeps theirs. Raises NotFound."""
    call = await _party(uow, actor, call_id)
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
    if call.status == "ringing" and call.ring_until <= now:
        moved = await _move(uow, call, ["ringing"], "missed", "timeout")
    elif call.status == "accepted":
        moved = await _move(uow, call, ["accepted"], "failed", "failed")
    else:
        return False
    if moved is None:
        return False
    members = await calls_repo.member_ids(uow.session, call.id)
    ringing = [m for m in members if m != call.caller_id] if call.status == "ringing" else []
    extra = _stop_ringing(moved, ringing) if ringing else None
    uow.emit(
        E.CALL_ENDED, _ended(moved, moved.end_reason), members, namespace=NAMESPACE, extra=extra
    )
    return True


# --- signaling ------------------------------------------------------------------------


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
    call = await _live(uow, actor, body.call_id)
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
    call = await _live(uow, actor, body.call_id)
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


async def _live(uow: UnitOfWork, actor: Actor, call_id: uuid.UUID) -> Call:
    call = await _party(uow, actor, call_id)
    if call.status not in LIVE:
        raise _not_live(call)
    return call


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
        else:
            uow.emit(event, payload, [call.receiver_id], namespace=NAMESPACE)
    else:
        uow.emit(event, payload, [call.caller_id], namespace=NAMESPACE)


# --- group calls ------------------------------------------------------------------------


async def _start_group(
    uow: UnitOfWork, actor: Actor, chat_id: uuid.UUID, call_type: str
) -> CallOut:
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
    call = await _new_call(uow, actor, call_type, receiver_id=None, chat_id=chat.id)
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
        E.INCOMING_CALL, incoming, others, namespace=NAMESPACE, extra=_ring(call, actor, others)
    )
    initiated = CallInitiated(call_id=call.id, status="ringing")
    uow.emit(E.CALL_INITIATED, initiated, [actor.id], namespace=NAMESPACE)
    return await _one(uow, call)


async def join_group(uow: UnitOfWork, actor: Actor, call_id: uuid.UUID) -> list[uuid.UUID]:
    """Join a live group call; the participants already in (the joiner then sends each an
    offer). Idempotent for a member already in.

    Raises: NotFound; ValidationFailed (a 1:1 call); Conflict(CALL_ENDED);
    Conflict(CALL_BUSY) when four are in or the actor is on another call.
    Emits: ``group_call_participants {joined}`` to everyone in the call.
    """
    call = await _live(uow, actor, call_id)
    if call.receiver_id is not None:
        raise ValidationFailed("A 1:1 call is answered with accept_call")
    joined = (await calls_repo.joined_ids(uow.session, [call.id]))[call.id]
    if actor.id in joined:
        return [m for m in joined if m != actor.id]
    if len(joined) >= GROUP_MAX:
        raise Conflict(f"A group call takes at most {GROUP_MAX}", ErrorCode.CALL_BUSY)
    if actor.id not in await calls_repo.take_lines(uow.session, call.id, [actor.id]):
        raise Conflict("You are already on a call", ErrorCode.CALL_BUSY)
    await calls_repo.set_joined(uow.session, call.id, [actor.id], True)
    if call.status == "ringing":
        await _move(uow, call, ["ringing"], "accepted", started_at=uow.ctx.clock.now())
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
    call = await _party(uow, actor, call_id)
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
    moved = await _move(uow, call, [call.status], status, reason)
    if moved is None:
        return
    members = await calls_repo.member_ids(uow.session, call.id)
    ringing = [m for m in members if m != actor.id] if reason == "cancelled" else []
    extra = _stop_ringing(moved, ringing) if ringing else None
    uow.emit(E.CALL_ENDED, _ended(moved, reason), members, namespace=NAMESPACE, extra=extra)


# --- the call's entry in the chat ---------------------------------------------------------


def entry_text(call: Call) -> str:
    """The text old clients show for a call entry (clients with ``kind`` render ``call``)."""
    icon = "📹" if call.type == "video" else "📞"
    noun = "video call" if call.type == "video" else "audio call"
    if call.receiver_id is None:
        noun = f"group {noun}"
    if call.started_at is not None:
        seconds = (call.duration_ms or 0) // 1000
        minutes, secs = divmod(seconds, 60)
        hours, minutes = divmod(minutes, 60)
        length = f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
        return f"{icon} {noun[0].upper()}{noun[1:]}, {length}"
    word = "Declined" if call.status == "rejected" else "Missed"
    return f"{icon} {word} {noun}"


async def _write_entry(uow: UnitOfWork, call: Call) -> None:
    """Write the finished call into its chat (the private chat of the two, created if
    needed), as the caller, through the normal send path (sync log, unread, push)."""
    caller = await users_repo.by_id(uow.session, call.caller_id)
    if caller is None:
        return
    sender = Actor(caller.id, caller.username, caller.shown_name, caller.is_admin)
    chat_id = call.chat_id
    if call.receiver_id is not None:
        try:
            chat, _ = await chat_service.get_or_create_private_chat(uow, sender, call.receiver_id)
        except NotFound:
            return  # the callee's account is gone: no chat to write into
        chat_id = chat.id
    if chat_id is None:
        return
    summary = CallSummary(
        id=call.id,
        type=call.type,  # type: ignore[arg-type]
        status=call.status,  # type: ignore[arg-type]
        duration_ms=call.duration_ms or 0,
        caller_id=call.caller_id,
        end_reason=call.end_reason,
    )
    body = SendMessageIn(
        chat_id=chat_id, content=entry_text(call), client_message_id=f"call:{call.id}"
    )
    (result,) = await messages.send_messages(
        uow, [messages.SendRequest(sender, body, call=summary)]
    )
    if isinstance(result, InnerCircleError) and not isinstance(result, NotFound):
        raise result
