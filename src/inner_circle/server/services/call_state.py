"""The calls state machine's core (ADR 16), shared by 1:1 and group calls.

Every status change goes through :func:`move`: a conditional UPDATE from the statuses it
may leave, so racing changes are decided by the database. A final status frees the
members' lines, forgets SDP and candidates, and writes the chat entry
(``services/call_entries.py``). ``ringing`` and ``accepted`` are live; the rest final.
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
    InnerCircleError,
    NotFound,
)
from inner_circle.protocol.calls import (
    CallOut,
)
from inner_circle.protocol.events import (
    CallEnded,
    CallServerEvent,
)
from inner_circle.server.db.models import Call, User
from inner_circle.server.db.uow import UnitOfWork
from inner_circle.server.repositories import calls as calls_repo
from inner_circle.server.repositories import users as users_repo
from inner_circle.server.services import call_entries as entries
from inner_circle.server.services.views import user_brief

__all__ = [
    "FINAL",
    "LIVE",
    "NAMESPACE",
    "NOT_FOUND",
    "E",
    "ended_event",
    "live",
    "move",
    "new_call",
    "not_live",
    "one",
    "out",
    "outs",
    "party",
    "reload",
    "ring_push",
    "stop_ringing",
]

NAMESPACE = "/calls"
E = CallServerEvent
LIVE = frozenset({"ringing", "accepted"})
FINAL = frozenset({"ended", "rejected", "missed", "busy", "failed"})
NOT_FOUND = "Call not found"


async def party(uow: UnitOfWork, actor: Actor, call_id: uuid.UUID) -> Call:
    """The call, if the actor is one it was for; else NotFound (nothing leaks)."""
    found = await calls_repo.membership(uow.session, call_id, actor.id)
    if found is None:
        raise NotFound(NOT_FOUND)
    return found[0]


async def live(uow: UnitOfWork, actor: Actor, call_id: uuid.UUID) -> Call:
    call = await party(uow, actor, call_id)
    if call.status not in LIVE:
        raise not_live(call)
    return call


async def outs(uow: UnitOfWork, calls: Sequence[Call]) -> list[CallOut]:
    ids = {c.caller_id for c in calls} | {c.receiver_id for c in calls if c.receiver_id}
    users = await users_repo.by_ids(uow.session, ids)
    joined = await calls_repo.joined_ids(uow.session, [c.id for c in calls])
    return [out(call, users, joined[call.id]) for call in calls]


def out(call: Call, users: dict[uuid.UUID, User], joined: list[uuid.UUID]) -> CallOut:
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


async def one(uow: UnitOfWork, call: Call) -> CallOut:
    return (await outs(uow, [call]))[0]


async def move(
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
        await entries.write_entry(uow, changed)
    return changed


def not_live(call: Call) -> InnerCircleError:
    if call.status in FINAL:
        return Conflict("The call has ended", ErrorCode.CALL_ENDED)
    return Conflict("The call is no longer ringing", ErrorCode.CALL_NOT_RINGING)


def ended_event(call: Call, reason: str | None) -> CallEnded:
    return CallEnded(call_id=call.id, status=call.status, reason=reason)  # type: ignore[arg-type]


def stop_ringing(call: Call, to: Iterable[uuid.UUID]) -> dict[str, Any]:
    """``extra`` asking for a ``call-ended`` push to ``to`` (their ringing notification)."""
    push = {"type": "call-ended", "callId": str(call.id), "status": call.status}
    return {"push": push, "pushTo": list(to)}


def ring_push(call: Call, actor: Actor, to: list[uuid.UUID]) -> dict[str, Any]:
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


async def new_call(
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


async def reload(uow: UnitOfWork, call: Call) -> Call:
    fresh = await calls_repo.by_id(uow.session, call.id)
    assert fresh is not None
    return fresh
