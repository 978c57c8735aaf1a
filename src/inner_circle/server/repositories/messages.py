"""Message queries. Never commits.

History is paged by the per-chat sequence number (keyset), which stays fast on
a chat of millions of messages; the seed's ``offset`` (counted from the oldest
message, as the seed's app pages) is still accepted.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import and_, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from inner_circle.core import limits
from inner_circle.server.db.driver_sql import (
    DriverSQL,
    as_json,
    as_time,
    as_uuid,
    insert_sql,
    row_values,
)
from inner_circle.server.db.models import Message, User
from inner_circle.server.repositories.chats import MemberName

__all__ = [
    "StoredMessage",
    "by_client_ids",
    "by_ids",
    "deleted_seqs",
    "in_chat",
    "insert_unless_sent",
    "last_messages",
    "page",
]


# A new message's columns by attribute, but its pinner: no message is pinned as it is sent.
_DRAFT_COLUMNS = [
    (attr.key, attr.columns[0].name)
    for attr in Message.__mapper__.column_attrs
    if attr.key != "pinned_by_id"
]


@functools.lru_cache(maxsize=256)
def _insert_messages(count: int) -> DriverSQL:
    """One statement for ``count`` messages (one round trip: the rows, and the ids stored)."""
    return insert_sql(
        Message.__table__, conflict=("senderId", "clientMessageId"), returning="id", rows=count
    )


# Both lists match through the (senderId, clientMessageId) index; pairs that only cross
# (one's sender, another's client id) are dropped after.
_SENT_AMONG = DriverSQL(
    'SELECT "senderId", "clientMessageId" FROM messages'
    ' WHERE "senderId" = ANY(:senders) AND "clientMessageId" = ANY(:clients)'
)


async def insert_unless_sent(session: AsyncSession, drafts: Sequence[StoredMessage]) -> int:
    """Store new messages (their ids are new); how many were stored. A message whose
    (sender, ``clientMessageId``) a concurrent send committed first is skipped. Plain
    values straight on the driver (db/driver_sql.py): no ORM object per message."""
    rows = [
        {"pinnedById": None, **{name: getattr(draft, key) for key, name in _DRAFT_COLUMNS}}
        for draft in drafts
    ]
    values = rows[0] if len(rows) == 1 else row_values(rows)
    return len((await _insert_messages(len(rows)).run(session, values)).scalars())


async def by_client_ids(
    session: AsyncSession, keys: Iterable[tuple[uuid.UUID, str]]
) -> dict[tuple[uuid.UUID, str], Message]:
    """Messages already stored under (sender id, client message id). The usual answer,
    "none of them", costs one driver-level statement; found ones are loaded as objects."""
    wanted = list(dict.fromkeys(keys))
    if not wanted:
        return {}
    probe = {
        "senders": list(dict.fromkeys(sender for sender, _ in wanted)),
        "clients": list(dict.fromkeys(client for _, client in wanted)),
    }
    found_keys = {
        (as_uuid(sender), client)
        for sender, client in (await _SENT_AMONG.run(session, probe)).all()
    }
    hits = [key for key in wanted if key in found_keys]
    if not hits:
        return {}
    result = await session.execute(
        select(Message).where(tuple_(Message.sender_id, Message.client_message_id).in_(hits))
    )
    found: dict[tuple[uuid.UUID, str], Message] = {}
    for message in result.scalars():
        assert message.client_message_id is not None
        found[(message.sender_id, message.client_message_id)] = message
    return found


class StoredMessage(NamedTuple):
    """A message as history pages show it: plain values read on the driver, not an ORM
    object (a page of 200 built 400 of them; the attribute names are ``Message``'s)."""

    id: uuid.UUID
    content: str
    sender_id: uuid.UUID
    chat_id: uuid.UUID
    created_at: datetime
    updated_at: datetime
    seq: int
    client_message_id: str | None
    edited_at: datetime | None
    deleted_at: datetime | None
    content_is_fallback: bool
    reply_to_id: uuid.UUID | None
    forwarded_message_id: uuid.UUID | None
    forwarded_chat_id: uuid.UUID | None
    forwarded_sender_id: uuid.UUID | None
    pinned_at: datetime | None
    kind: str
    call: dict[str, Any] | None


_PAGE_COLUMNS = (
    'm.id, m.content, m."senderId", m."createdAt", m."updatedAt", m.seq, m."clientMessageId",'
    ' m."editedAt", m."deletedAt", m."contentIsFallback", m."replyToId",'
    ' m."forwardedMessageId", m."forwardedChatId", m."forwardedSenderId", m."pinnedAt",'
    ' m.kind, m."call", u.username, u."displayName"'
)


@functools.cache
def _page_sql(oldest_first: bool, bound: str, visible: bool) -> DriverSQL:
    """The page statement of one shape; ``bound``: "after", "before" or ""."""
    where = ['m."chatId" = :chat']
    if visible:
        where.append("m.seq > :visible")
    if bound:
        where.append(f"m.seq {'>' if bound == 'after' else '<'} :{bound}")
    return DriverSQL(
        f'SELECT {_PAGE_COLUMNS} FROM messages m JOIN users u ON u.id = m."senderId"'
        f" WHERE {' AND '.join(where)}"
        f" ORDER BY m.seq {'ASC' if oldest_first else 'DESC'} LIMIT :limit OFFSET :offset"
    )


def _maybe(convert: Callable[[Any], Any], value: Any) -> Any:
    return None if value is None else convert(value)


def _page_rows(chat_id: uuid.UUID, rows: Sequence[Any]) -> list[tuple[StoredMessage, MemberName]]:
    senders: dict[Any, MemberName] = {}  # a page has few senders: each decoded once
    found = []
    for row in rows:
        sender = senders.get(row[2])
        if sender is None:
            sender = senders[row[2]] = MemberName(as_uuid(row[2]), row[17], row[18])
        message = StoredMessage(
            as_uuid(row[0]),
            row[1],
            sender.id,
            chat_id,
            as_time(row[3]),
            as_time(row[4]),
            row[5],
            row[6],
            _maybe(as_time, row[7]),
            _maybe(as_time, row[8]),
            bool(row[9]),
            _maybe(as_uuid, row[10]),
            _maybe(as_uuid, row[11]),
            _maybe(as_uuid, row[12]),
            _maybe(as_uuid, row[13]),
            _maybe(as_time, row[14]),
            row[15],
            _maybe(as_json, row[16]),
        )
        found.append((message, sender))
    return found


async def page(
    session: AsyncSession,
    chat_id: uuid.UUID,
    *,
    limit: int,
    before: int | None = None,
    after: int | None = None,
    offset: int | None = None,
    around: int | None = None,
    visible_after: int = 0,
) -> tuple[list[tuple[StoredMessage, MemberName]], bool]:
    """Up to ``limit`` messages in chronological order, and whether more lie beyond.

    ``after``: the oldest messages with a larger seq (catching up forwards), skipping
    ``offset`` of them first. ``before``: the newest messages with seq below it
    (scrolling back), skipping ``offset`` newest ones first. Neither, with ``offset``:
    the seed's paging, skipping ``offset`` of the oldest messages (more lie beyond
    when newer ones remain). Nothing: the newest page. Only messages with a seq above
    ``visible_after`` exist for this page (a member who joined a group that keeps its
    history from newcomers). ``around``: ``limit`` messages with that seq in the middle
    (the rest of the window, when one side runs out, from the other); more lie beyond
    when older ones remain before the window.
    """
    if around is not None:
        return await _around(session, chat_id, around, limit, visible_after)
    oldest_first = after is not None or (before is None and offset is not None)
    bound = "after" if after is not None else "before" if before is not None else ""
    values: dict[str, Any] = {
        "chat": chat_id,
        "visible": visible_after,
        "after": after,
        "before": before,
        "limit": limit + 1,
        "offset": offset or 0,
    }
    statement = _page_sql(oldest_first, bound, bool(visible_after))
    rows = _page_rows(chat_id, (await statement.run(session, values)).all())
    has_more = len(rows) > limit
    rows = rows[:limit]
    if not oldest_first:
        rows.reverse()
    return rows, has_more


async def _around(
    session: AsyncSession, chat_id: uuid.UUID, seq: int, limit: int, visible_after: int
) -> tuple[list[tuple[StoredMessage, MemberName]], bool]:
    # The newest place there can be has nothing after it (and seq + 1 would not fit).
    before = seq + 1 if seq < limits.SEQ_MAX else None
    older, more_older = await page(
        session, chat_id, limit=limit, before=before, visible_after=visible_after
    )
    newer, _ = await page(
        session, chat_id, limit=limit, after=max(seq, visible_after), visible_after=visible_after
    )
    take_newer = min(len(newer), max((limit - 1) // 2, limit - len(older)))
    take_older = min(len(older), limit - take_newer)
    window = [*older[len(older) - take_older :], *newer[:take_newer]]
    return window, more_older or take_older < len(older)


async def last_messages(
    session: AsyncSession, chat_seqs: Iterable[tuple[uuid.UUID, int]]
) -> dict[uuid.UUID, tuple[Message, User]]:
    pairs = [(chat_id, seq) for chat_id, seq in chat_seqs if seq > 0]
    if not pairs:
        return {}
    result = await session.execute(
        select(Message, User)
        .join(User, User.id == Message.sender_id)
        .where(tuple_(Message.chat_id, Message.seq).in_(pairs))
    )
    return {message.chat_id: (message, user) for message, user in result.all()}


async def deleted_seqs(
    session: AsyncSession, chat_after: Iterable[tuple[uuid.UUID, int]]
) -> dict[uuid.UUID, list[int]]:
    """The places of deleted messages after a position in each chat, ascending (they do
    not count as unread). Deletions are rare; ``ix_messages_deleted`` holds only them."""
    pairs = list(chat_after)
    if not pairs:
        return {}
    result = await session.execute(
        select(Message.chat_id, Message.seq)
        .where(
            Message.deleted_at.is_not(None),
            or_(*(and_(Message.chat_id == chat_id, Message.seq > seq) for chat_id, seq in pairs)),
        )
        .order_by(Message.chat_id, Message.seq)
    )
    found: dict[uuid.UUID, list[int]] = {}
    for chat_id, seq in result.all():
        found.setdefault(chat_id, []).append(seq)
    return found


async def by_ids(
    session: AsyncSession, message_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, tuple[Message, User]]:
    ids = list(message_ids)
    if not ids:
        return {}
    result = await session.execute(
        select(Message, User).join(User, User.id == Message.sender_id).where(Message.id.in_(ids))
    )
    return {message.id: (message, user) for message, user in result.all()}


async def in_chat(
    session: AsyncSession, chat_id: uuid.UUID, message_id: uuid.UUID
) -> Message | None:
    result = await session.execute(
        select(Message).where(Message.id == message_id, Message.chat_id == chat_id)
    )
    return result.scalar_one_or_none()
