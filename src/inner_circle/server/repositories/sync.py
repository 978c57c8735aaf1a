"""The sync log. Never commits."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from inner_circle.server.db.models import ChatParticipant, SyncEntry
from inner_circle.server.db.models.sync import NEW_ENTRIES

__all__ = ["entries_for", "latest_id", "record"]


def record(
    session: AsyncSession,
    kind: str,
    now: datetime,
    *,
    chat_id: uuid.UUID | None = None,
    user_id: uuid.UUID | None = None,
    message_id: uuid.UUID | None = None,
    seq: int | None = None,
) -> None:
    entry = SyncEntry(
        kind=kind,
        chat_id=chat_id,
        user_id=user_id,
        message_id=message_id,
        seq=seq,
        created_at=now,
    )
    session.add(entry)
    session.info.setdefault(NEW_ENTRIES, []).append(entry)


async def latest_id(session: AsyncSession) -> int:
    return int(
        (await session.execute(select(func.coalesce(func.max(SyncEntry.id), 0)))).scalar_one()
    )


async def entries_for(
    session: AsyncSession, user_id: uuid.UUID, since: int, limit: int
) -> tuple[Sequence[SyncEntry], bool]:
    """Entries after ``since`` that ``user_id`` may see, oldest first, and whether more remain:
    changes in chats they are in now, their own removals, and family-wide member changes."""
    my_chats = select(ChatParticipant.chat_id).where(ChatParticipant.user_id == user_id)
    query = (
        select(SyncEntry)
        .where(
            SyncEntry.id > since,
            or_(
                SyncEntry.chat_id.in_(my_chats) & (SyncEntry.kind != "removed"),
                and_(SyncEntry.kind == "removed", SyncEntry.user_id == user_id),
                SyncEntry.kind == "user",
            ),
        )
        .order_by(SyncEntry.id)
        .limit(limit + 1)
    )
    rows = list((await session.execute(query)).scalars())
    return rows[:limit], len(rows) > limit
