"""Reactions, mentions and pins (ADR 14). Never commits."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from inner_circle.server.db.driver_sql import DriverSQL, as_uuid
from inner_circle.server.db.models import (
    ChatParticipant,
    Message,
    MessageMention,
    MessageReaction,
    User,
)
from inner_circle.server.repositories.inserts import insert_new
from inner_circle.server.repositories.messages import StoredMessage

__all__ = [
    "add_mentions",
    "add_reaction",
    "member_emoji_count",
    "pinned",
    "reactions_and_mentions",
    "reactions_of",
    "remove_reaction",
    "unread_mentions",
    "unread_mentions_of_members",
]


Reactions = dict[uuid.UUID, list[tuple[str, list[uuid.UUID]]]]
Mentions = dict[uuid.UUID, list[uuid.UUID]]


async def reactions_of(session: AsyncSession, message_ids: Iterable[uuid.UUID]) -> Reactions:
    """Each message's reactions: (emoji, member ids), in the order each emoji first came."""
    ids = list(message_ids)
    if not ids:
        return {}
    result = await _REACTIONS_OF.run(session, {"ids": ids})
    return _grouped(result.all())


async def reactions_and_mentions(
    session: AsyncSession, message_ids: Iterable[uuid.UUID]
) -> tuple[Reactions, Mentions]:
    """:func:`reactions_of` and the members each message mentions, in one statement: every
    history page asks both, usually for nothing (straight on the driver, ADR 5)."""
    ids = list(message_ids)
    if not ids:
        return {}, {}
    rows = (await _REACTIONS_AND_MENTIONS.run(session, {"ids": ids})).all()
    mentions: Mentions = defaultdict(list)
    reacted = []
    for row in rows:
        if row[1] is None:
            mentions[as_uuid(row[0])].append(as_uuid(row[2]))
        else:
            reacted.append(row)
    reacted.sort(key=lambda row: (row[3], row[2]))  # _REACTIONS_OF's order
    return _grouped(reacted), mentions


def _grouped(rows: Iterable[Sequence[Any]]) -> Reactions:
    grouped: dict[uuid.UUID, dict[str, list[uuid.UUID]]] = defaultdict(dict)
    for message_id, emoji, user_id, *_ in rows:
        grouped[as_uuid(message_id)].setdefault(emoji, []).append(as_uuid(user_id))
    return {m: list(by_emoji.items()) for m, by_emoji in grouped.items()}


_REACTIONS = 'SELECT "messageId", emoji, "userId", "createdAt" FROM message_reactions'
_REACTIONS_OF = DriverSQL(
    _REACTIONS + ' WHERE "messageId" = ANY(:ids) ORDER BY "createdAt", "userId"'
)
_REACTIONS_AND_MENTIONS = DriverSQL(
    _REACTIONS + ' WHERE "messageId" = ANY(:ids) UNION ALL'
    ' SELECT "messageId", NULL, "userId", NULL FROM message_mentions WHERE "messageId" = ANY(:ids)'
)


async def add_reaction(
    session: AsyncSession, message_id: uuid.UUID, user_id: uuid.UUID, emoji: str, now: datetime
) -> bool:
    """Whether the reaction was new (a concurrent or repeated one is skipped)."""
    row = {"message_id": message_id, "user_id": user_id, "emoji": emoji, "created_at": now}
    return bool(await insert_new(session, MessageReaction, [row]))


async def remove_reaction(
    session: AsyncSession, message_id: uuid.UUID, user_id: uuid.UUID, emoji: str
) -> bool:
    """Whether there was such a reaction."""
    result = await session.execute(
        delete(MessageReaction).where(
            MessageReaction.message_id == message_id,
            MessageReaction.user_id == user_id,
            MessageReaction.emoji == emoji,
        )
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def member_emoji_count(
    session: AsyncSession, message_id: uuid.UUID, user_id: uuid.UUID
) -> int:
    return int(
        await session.scalar(
            select(func.count()).where(
                MessageReaction.message_id == message_id, MessageReaction.user_id == user_id
            )
        )
        or 0
    )


def add_mentions(
    session: AsyncSession, message: Message | StoredMessage, user_ids: Sequence[uuid.UUID]
) -> None:
    session.add_all(
        MessageMention(message_id=message.id, user_id=u, chat_id=message.chat_id, seq=message.seq)
        for u in user_ids
    )


def _unread_mention_counts() -> Select[tuple[uuid.UUID, uuid.UUID, int]]:
    """Mentions that are not deleted, counted by (chat, member); callers add which ones."""
    return (
        select(MessageMention.chat_id, MessageMention.user_id, func.count())
        .join(Message, Message.id == MessageMention.message_id)
        .where(Message.deleted_at.is_(None))
        .group_by(MessageMention.chat_id, MessageMention.user_id)
    )


async def unread_mentions(
    session: AsyncSession, wanted: Iterable[tuple[uuid.UUID, uuid.UUID, int]]
) -> dict[tuple[uuid.UUID, uuid.UUID], int]:
    """For (chat, member, read position) triples: mentions of the member after it that are
    not deleted, by (chat, member). Mentions are rare; their index holds only them."""
    triples = list(wanted)
    if not triples:
        return {}
    after = (
        and_(
            MessageMention.user_id == user_id,
            MessageMention.chat_id == chat_id,
            MessageMention.seq > seq,
        )
        for chat_id, user_id, seq in triples
    )
    result = await session.execute(_unread_mention_counts().where(or_(*after)))
    return {(chat_id, user_id): int(count) for chat_id, user_id, count in result.all()}


async def unread_mentions_of_members(
    session: AsyncSession, chat_id: uuid.UUID
) -> dict[tuple[uuid.UUID, uuid.UUID], int]:
    """:func:`unread_mentions` for every member of one chat at their own read position,
    by (chat, member): one fixed statement, whatever the number of members (a family
    chat's announcement after each registration asked with an ``OR`` of one term per
    member, compiled anew each time: O(n) per registration, docs/performance.md)."""
    members = and_(
        ChatParticipant.chat_id == MessageMention.chat_id,
        ChatParticipant.user_id == MessageMention.user_id,
    )
    result = await session.execute(
        _unread_mention_counts()
        .join(ChatParticipant, members)
        .where(
            MessageMention.chat_id == chat_id,
            MessageMention.seq > ChatParticipant.last_read_seq,
        )
    )
    return {(chat, user_id): int(count) for chat, user_id, count in result.all()}


async def pinned(
    session: AsyncSession, chat_id: uuid.UUID, visible_after: int
) -> Sequence[tuple[Message, User]]:
    """A chat's pinned messages that are not deleted, the latest pin first."""
    result = await session.execute(
        select(Message, User)
        .join(User, User.id == Message.sender_id)
        .where(
            Message.chat_id == chat_id,
            Message.pinned_at.is_not(None),
            Message.deleted_at.is_(None),
            Message.seq > visible_after,
        )
        .order_by(Message.pinned_at.desc(), Message.seq.desc())
    )
    return [(m, u) for m, u in result.all()]
