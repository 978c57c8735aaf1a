"""Calls: queries by intent. Status changes are conditional UPDATEs: the database
decides every race (ADR 16)."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from inner_circle.server.db.models import Call, CallLine, CallMember
from inner_circle.server.repositories.inserts import insert_new

__all__ = [
    "add_members",
    "by_id",
    "expired",
    "history",
    "joined_from",
    "joined_ids",
    "live_for",
    "live_in_chat",
    "lock",
    "member_ids",
    "membership",
    "release_lines",
    "set_hidden",
    "set_joined",
    "take_lines",
    "transition",
]

LIVE = ("ringing", "accepted")


async def by_id(session: AsyncSession, call_id: uuid.UUID) -> Call | None:
    return await session.get(Call, call_id, populate_existing=True)


async def lock(session: AsyncSession, call_id: uuid.UUID) -> Call | None:
    """The call row, locked until the transaction ends (PostgreSQL; SQLite writers take
    turns anyway): for read-modify-write of its JSON columns."""
    result = await session.execute(
        select(Call)
        .where(Call.id == call_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return result.scalar_one_or_none()


async def membership(
    session: AsyncSession, call_id: uuid.UUID, user_id: uuid.UUID
) -> tuple[Call, CallMember] | None:
    result = await session.execute(
        select(Call, CallMember)
        .join(CallMember, CallMember.call_id == Call.id)
        .where(Call.id == call_id, CallMember.user_id == user_id)
        .execution_options(populate_existing=True)
    )
    row = result.first()
    return None if row is None else (row[0], row[1])


async def transition(
    session: AsyncSession,
    call_id: uuid.UUID,
    allowed_from: Collection[str],
    values: dict[str, Any],
) -> bool:
    """Apply ``values`` if the call's status is still one of ``allowed_from``; whether it
    did. Two transactions racing on the same call: exactly one matches."""
    result = await session.execute(
        update(Call)
        .where(Call.id == call_id, Call.status.in_(list(allowed_from)))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def detach_answer(session: AsyncSession, sid: str) -> None:
    """The connection that answered a call closed: nothing is addressed to it any more."""
    await session.execute(
        update(Call)
        .where(Call.answered_sid == sid, Call.status == "accepted")
        .values(answered_sid=None)
        .execution_options(synchronize_session=False)
    )


async def attach_answer(
    session: AsyncSession, user_id: uuid.UUID, session_id: uuid.UUID, sid: str
) -> None:
    """A new connection of the session that answered (a reconnect) takes the place of the
    closed one."""
    await session.execute(
        update(Call)
        .where(
            Call.receiver_id == user_id,
            Call.answered_session == session_id,
            Call.answered_sid.is_(None),
            Call.status == "accepted",
        )
        .values(answered_sid=sid)
        .execution_options(synchronize_session=False)
    )


async def take_lines(
    session: AsyncSession, call_id: uuid.UUID, user_ids: Iterable[uuid.UUID]
) -> set[uuid.UUID]:
    """Put members on this call's line; those stored (a member already on a line is not)."""
    rows = [{"user_id": uid, "call_id": call_id} for uid in dict.fromkeys(user_ids)]
    stored = await insert_new(session, CallLine, rows, unique=[CallLine.user_id])
    return {line.user_id for line in stored}


async def release_lines(
    session: AsyncSession, call_id: uuid.UUID, user_ids: Iterable[uuid.UUID] | None = None
) -> None:
    statement = delete(CallLine).where(CallLine.call_id == call_id)
    if user_ids is not None:
        statement = statement.where(CallLine.user_id.in_(list(user_ids)))
    await session.execute(statement)


async def add_members(
    session: AsyncSession, call_id: uuid.UUID, user_ids: Iterable[uuid.UUID], joined: set[uuid.UUID]
) -> None:
    for uid in dict.fromkeys(user_ids):
        session.add(CallMember(call_id=call_id, user_id=uid, joined=uid in joined, hidden=False))
    await session.flush()


async def set_joined(
    session: AsyncSession,
    call_id: uuid.UUID,
    user_ids: Iterable[uuid.UUID],
    joined: bool,
    sid: str | None = None,
) -> None:
    await session.execute(
        update(CallMember)
        .where(CallMember.call_id == call_id, CallMember.user_id.in_(list(user_ids)))
        .values(joined=joined, sid=sid if joined else None)
        .execution_options(synchronize_session=False)
    )


async def joined_from(session: AsyncSession, sid: str) -> list[uuid.UUID]:
    """Calls someone joined from the connection ``sid``."""
    result = await session.execute(
        select(CallMember.call_id).where(CallMember.sid == sid, CallMember.joined.is_(True))
    )
    return list(result.scalars())


async def set_hidden(session: AsyncSession, call_id: uuid.UUID, user_id: uuid.UUID) -> None:
    await session.execute(
        update(CallMember)
        .where(CallMember.call_id == call_id, CallMember.user_id == user_id)
        .values(hidden=True)
        .execution_options(synchronize_session=False)
    )


async def member_ids(session: AsyncSession, call_id: uuid.UUID) -> list[uuid.UUID]:
    result = await session.execute(select(CallMember.user_id).where(CallMember.call_id == call_id))
    return list(result.scalars())


async def joined_ids(
    session: AsyncSession, call_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, list[uuid.UUID]]:
    """Who is in each call now."""
    wanted = list(call_ids)
    found: dict[uuid.UUID, list[uuid.UUID]] = {cid: [] for cid in wanted}
    if not wanted:
        return found
    result = await session.execute(
        select(CallMember.call_id, CallMember.user_id).where(
            CallMember.call_id.in_(wanted), CallMember.joined.is_(True)
        )
    )
    for call_id, user_id in result:
        found[call_id].append(user_id)
    return found


async def history(
    session: AsyncSession, user_id: uuid.UUID, limit: int, offset: int
) -> Sequence[Call]:
    """The member's calls, newest first, but those they removed from their history."""
    result = await session.execute(
        select(Call)
        .join(CallMember, CallMember.call_id == Call.id)
        .where(CallMember.user_id == user_id, CallMember.hidden.is_(False))
        .order_by(Call.created_at.desc(), Call.id)
        .limit(limit)
        .offset(offset)
    )
    return result.scalars().all()


async def live_for(session: AsyncSession, user_id: uuid.UUID) -> Sequence[Call]:
    """The member's ringing or accepted calls (1:1 as a party; group calls of their chats)."""
    result = await session.execute(
        select(Call)
        .join(CallMember, CallMember.call_id == Call.id)
        .where(CallMember.user_id == user_id, Call.status.in_(LIVE))
        .order_by(Call.created_at.desc())
    )
    return result.scalars().all()


async def live_in_chat(session: AsyncSession, chat_id: uuid.UUID) -> Call | None:
    result = await session.execute(
        select(Call).where(
            Call.chat_id == chat_id, Call.receiver_id.is_(None), Call.status.in_(LIVE)
        )
    )
    return result.scalars().first()


async def expired(
    session: AsyncSession, now: datetime, started_before: datetime, limit: int = 100
) -> list[uuid.UUID]:
    """Ringing calls past their ring time, and accepted calls older than the longest call."""
    result = await session.execute(
        select(Call.id)
        .where(
            or_(
                (Call.status == "ringing") & (Call.ring_until <= now),
                (Call.status == "accepted") & (Call.started_at <= started_before),
            )
        )
        .limit(limit)
    )
    return list(result.scalars())
