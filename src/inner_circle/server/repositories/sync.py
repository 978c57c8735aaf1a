"""The sync log. Never commits."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, func, literal_column, or_, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from inner_circle.server.db.models import ChatParticipant, ServerState, SyncEntry
from inner_circle.server.db.models.sync import NEW_ENTRIES, REMOVED, USER

__all__ = ["EPOCH", "MESSAGE_KINDS", "entries_for", "epoch", "latest_id", "record"]

EPOCH = "epoch"


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
    """Add an entry to this transaction's changes. It is written at commit, with its id
    in commit order (``db/uow.py``), so it is not readable before then."""
    row = {  # by column name: a Core insert writes them
        "kind": kind,
        "chatId": chat_id,
        "userId": user_id,
        "messageId": message_id,
        "seq": seq,
        "createdAt": now,
    }
    session.info.setdefault(NEW_ENTRIES, []).append(row)


async def epoch(session: AsyncSession) -> str:
    """This database's epoch (the first part of every cursor it issues)."""
    value = await session.scalar(select(ServerState.value).where(ServerState.key == EPOCH))
    return value or "0"


async def latest_id(session: AsyncSession) -> int:
    return int(
        (await session.execute(select(func.coalesce(func.max(SyncEntry.id), 0)))).scalar_one()
    )


# SQLite allows 500 terms in one compound SELECT; a member in more chats costs one more query.
CHATS_PER_QUERY = 400
# Entries about one message: left out for a member who may not read it.
MESSAGE_KINDS = ("message", "edit", "delete", "reaction", "pin", "unpin")


async def entries_for(
    session: AsyncSession, user_id: uuid.UUID, since: int, limit: int
) -> tuple[Sequence[SyncEntry], bool]:
    """Entries after ``since`` that ``user_id`` may see, oldest first, and whether more remain:
    changes in chats they are in now, their own removals, and family-wide member changes.
    Messages (and their edits) a member must not see, those of a group sent before they
    joined it when the group keeps its history from newcomers, are left out.

    Cost: one statement (per 400 chats) holding an index range per source, each read at
    most ``limit + 1`` entries deep (per chat on ``ix_sync_log_chat``, the member's removals
    and member changes on their partial indexes), merged by id. An ``OR`` of the three in one ``WHERE`` would
    walk the whole log after ``since``, every family member's chats included.
    """
    memberships = (
        await session.execute(
            select(ChatParticipant.chat_id, ChatParticipant.history_from_seq).where(
                ChatParticipant.user_id == user_id
            )
        )
    ).all()
    take = limit + 1
    sources = [
        _first_after(
            SyncEntry.kind == literal_column(f"'{REMOVED}'"),
            SyncEntry.user_id == user_id,
            since=since,
            take=take,
        ),
        _first_after(SyncEntry.kind == literal_column(f"'{USER}'"), since=since, take=take),
    ]
    for chat_id, history_from in memberships:
        visible = (
            [or_(SyncEntry.kind.not_in(MESSAGE_KINDS), SyncEntry.seq > history_from)]
            if history_from
            else []
        )
        sources.append(
            _first_after(
                SyncEntry.chat_id == chat_id,
                SyncEntry.kind != REMOVED,
                *visible,
                since=since,
                take=take,
            )
        )
    rows: list[SyncEntry] = []
    for start in range(0, len(sources), CHATS_PER_QUERY):
        merged = union_all(*sources[start : start + CHATS_PER_QUERY]).subquery()
        entry = aliased(SyncEntry, merged)
        query = select(entry).order_by(merged.c.id).limit(take)
        rows.extend((await session.execute(query)).scalars())
    rows.sort(key=lambda e: e.id)
    return rows[:limit], len(rows) > limit


def _first_after(*conditions: ColumnElement[bool], since: int, take: int) -> Select[Any]:
    """The first ``take`` entries after ``since`` meeting ``conditions``, as a union member
    (wrapped: SQLite refuses ORDER BY and LIMIT on a bare compound member)."""
    inner = (
        select(SyncEntry)
        .where(SyncEntry.id > since, *conditions)
        .order_by(SyncEntry.id)
        .limit(take)
        .subquery()
    )
    return select(inner)
