"""Chat and membership queries. Never commits."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import case, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from inner_circle.core import usernames
from inner_circle.server.db.driver_sql import DriverSQL, as_uuid
from inner_circle.server.db.models import Chat, ChatParticipant
from inner_circle.server.repositories.inserts import insert_object
from inner_circle.server.repositories.push import holds_a_device

__all__ = [
    "Audience",
    "ChatMember",
    "MemberName",
    "TakenSeqs",
    "add_participants",
    "advance_read_markers",
    "anyone_unread",
    "audiences_by_chat",
    "by_private_key",
    "family_chat",
    "history_hidden_from",
    "insert_family_chat",
    "insert_private",
    "membership",
    "names",
    "next_seq",
    "participant_ids",
    "participant_ids_seeing",
    "participants_by_chat",
    "take_seqs",
    "take_seqs_many",
    "unhide",
]


async def family_chat(session: AsyncSession) -> Chat | None:
    result = await session.execute(
        select(Chat).where(Chat.type == "family").order_by(Chat.created_at).limit(1)
    )
    return result.scalar_one_or_none()


async def insert_family_chat(session: AsyncSession, name: str, now: datetime) -> Chat | None:
    """Create the family chat unless one exists; None when another transaction has one.

    The unique partial index ``uq_chats_family`` decides between processes that both
    found no family chat: the later insert does nothing (on PostgreSQL it first waits
    for the earlier transaction), and its caller reads the winner's chat instead.
    """
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    chat_id = uuid.uuid4()
    statement = (
        insert(Chat)
        .values(id=chat_id, name=name, type="family", last_seq=0, created_at=now, updated_at=now)
        .on_conflict_do_nothing()
        .returning(Chat.id)
    )
    if (await session.execute(statement)).scalar_one_or_none() is None:
        return None
    return await session.get(Chat, chat_id)


async def by_private_key(session: AsyncSession, key: str) -> Chat | None:
    result = await session.execute(select(Chat).where(Chat.private_key == key))
    return result.scalar_one_or_none()


async def insert_private(session: AsyncSession, draft: Chat) -> Chat | None:
    """Store a new private chat; None when its pair already has one (created at the same
    moment by the other member too: the unique key on the pair decides)."""
    return await insert_object(session, draft, unique=(Chat.private_key,))


async def names(session: AsyncSession, chat_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
    """The stored names of several chats in one query."""
    ids = list(dict.fromkeys(chat_ids))
    if not ids:
        return {}
    result = await session.execute(select(Chat.id, Chat.name).where(Chat.id.in_(ids)))
    return {chat_id: name for chat_id, name in result.all()}


async def membership(
    session: AsyncSession, chat_id: uuid.UUID, user_id: uuid.UUID
) -> tuple[Chat, ChatParticipant] | None:
    result = await session.execute(
        select(Chat, ChatParticipant)
        .join(ChatParticipant, ChatParticipant.chat_id == Chat.id)
        .where(Chat.id == chat_id, ChatParticipant.user_id == user_id)
    )
    row = result.first()
    return (row[0], row[1]) if row else None


class ReadingPlace(NamedTuple):
    """What reading a chat's history needs of the reader's membership."""

    chat_name: str
    history_from_seq: int


_READING_PLACE = DriverSQL(
    'SELECT c.name, p."historyFromSeq" FROM chats c'
    ' JOIN chat_participants p ON p."chatId" = c.id'
    ' WHERE c.id = :chat AND p."userId" = :user'
)


async def reading_place(
    session: AsyncSession, chat_id: uuid.UUID, user_id: uuid.UUID
) -> ReadingPlace | None:
    """:func:`membership` for a history page, as plain values on the driver (one a page)."""
    row = (await _READING_PLACE.run(session, {"chat": chat_id, "user": user_id})).first()
    return ReadingPlace(row[0], row[1]) if row else None


async def memberships_of(
    session: AsyncSession, user_id: uuid.UUID, *, include_hidden: bool = False
) -> Sequence[tuple[Chat, ChatParticipant]]:
    """The user's chats; without ``include_hidden``, not those they deleted from their list."""
    query = (
        select(Chat, ChatParticipant)
        .join(ChatParticipant, ChatParticipant.chat_id == Chat.id)
        .where(ChatParticipant.user_id == user_id)
    )
    if not include_hidden:
        query = query.where(ChatParticipant.hidden_at.is_(None))
    result = await session.execute(query)
    return [(row[0], row[1]) for row in result.all()]


async def participant_ids(session: AsyncSession, chat_id: uuid.UUID) -> list[uuid.UUID]:
    result = await session.execute(
        select(ChatParticipant.user_id).where(ChatParticipant.chat_id == chat_id)
    )
    return list(result.scalars())


async def anyone_unread(session: AsyncSession, chat_id: uuid.UUID, seq: int) -> bool:
    """Whether message ``seq`` is unread for a participant who can see it."""
    result = await session.execute(
        select(ChatParticipant.user_id)
        .where(
            ChatParticipant.chat_id == chat_id,
            ChatParticipant.last_read_seq < seq,
            ChatParticipant.history_from_seq < seq,
        )
        .limit(1)
    )
    return result.first() is not None


async def participant_ids_seeing(
    session: AsyncSession, chat_id: uuid.UUID, seq: int
) -> list[uuid.UUID]:
    """The participants whose visible history includes message ``seq``."""
    result = await session.execute(
        select(ChatParticipant.user_id).where(
            ChatParticipant.chat_id == chat_id, ChatParticipant.history_from_seq < seq
        )
    )
    return list(result.scalars())


async def history_hidden_from(
    session: AsyncSession, chat_id: uuid.UUID, seq: int
) -> set[uuid.UUID]:
    """The participants whose visible history starts after message ``seq``."""
    result = await session.execute(
        select(ChatParticipant.user_id).where(
            ChatParticipant.chat_id == chat_id, ChatParticipant.history_from_seq >= seq
        )
    )
    return set(result.scalars())


class Audience(NamedTuple):
    """Who is in a chat, and which of them have a push device (a Web Push subscription or
    an FCM token): the push planner skips a message nobody could be woken for."""

    members: list[uuid.UUID]
    device_holders: frozenset[uuid.UUID]


async def audiences_by_chat(
    session: AsyncSession, chat_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, Audience]:
    """The audience of several chats in one query (chats with no participant are absent).
    Asked by every send: on the driver (db/driver_sql.py), the device check by index."""
    ids = list(dict.fromkeys(chat_ids))
    if not ids:
        return {}
    if len(ids) == 1:  # a send's batch of one
        rows = (await _AUDIENCE.run(session, {"chat": ids[0]})).all()
        rows = [(ids[0], user_id, holds) for user_id, holds in rows]
    else:
        rows = (await _AUDIENCES.run(session, {"chats": ids})).all()
    members: dict[uuid.UUID, list[uuid.UUID]] = {}
    holders: dict[uuid.UUID, set[uuid.UUID]] = defaultdict(set)
    for chat_id, user_id, holds in rows:
        chat, user = as_uuid(chat_id), as_uuid(user_id)
        members.setdefault(chat, []).append(user)
        if holds:
            holders[chat].add(user)
    return {chat: Audience(who, frozenset(holders[chat])) for chat, who in members.items()}


class ChatMember(NamedTuple):
    """A participant as a chat's views show it: plain values, not ORM objects (a family
    chat lists every member, and every member's view of it is built from this list)."""

    user_id: uuid.UUID
    last_read_seq: int
    last_delivered_seq: int
    history_from_seq: int


class MemberName(NamedTuple):
    id: uuid.UUID
    username: str
    display_name: str | None

    @property
    def shown_name(self) -> str:
        return usernames.shown_name(self.username, self.display_name)


_PARTICIPANTS = DriverSQL(
    'SELECT p."chatId", p."userId", p."lastReadSeq", p."lastDeliveredSeq", p."historyFromSeq",'
    ' u.username, u."displayName"'
    ' FROM chat_participants p JOIN users u ON u.id = p."userId"'
    ' WHERE p."chatId" = ANY(:ids) ORDER BY u.username'
)


async def participants_by_chat(
    session: AsyncSession, chat_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, list[tuple[ChatMember, MemberName]]]:
    """Each chat's participants with their names, ordered by username."""
    ids = list(chat_ids)
    grouped: dict[uuid.UUID, list[tuple[ChatMember, MemberName]]] = defaultdict(list)
    if not ids:
        return grouped
    result = await _PARTICIPANTS.run(session, {"ids": ids})
    for chat_id, user_id, read, delivered, since, username, display_name in result.all():
        member = as_uuid(user_id)
        grouped[as_uuid(chat_id)].append(
            (
                ChatMember(member, read, delivered, since),
                MemberName(member, username, display_name),
            )
        )
    return grouped


async def add_participants(
    session: AsyncSession,
    chat_id: uuid.UUID,
    user_ids: Iterable[uuid.UUID],
    *,
    joined_at: datetime,
    read_up_to: int = 0,
    history_from_seq: int = 0,
) -> list[uuid.UUID]:
    """Add the users not yet in the chat; return the ids actually added. They see the
    messages after ``history_from_seq`` (0: all)."""
    present = set(await participant_ids(session, chat_id))
    added = [uid for uid in dict.fromkeys(user_ids) if uid not in present]
    for uid in added:
        session.add(
            ChatParticipant(
                chat_id=chat_id,
                user_id=uid,
                joined_at=joined_at,
                last_read_seq=read_up_to,
                last_delivered_seq=read_up_to,
                history_from_seq=history_from_seq,
            )
        )
    await session.flush()
    return added


async def unhide(
    session: AsyncSession, chat_ids: Iterable[uuid.UUID], user_id: uuid.UUID | None = None
) -> dict[uuid.UUID, list[uuid.UUID]]:
    """Put hidden chats back in their members' lists (only ``user_id``'s, when given);
    {chat id: the members whose list got it back}."""
    ids = list(dict.fromkeys(chat_ids))
    if not ids:
        return {}
    statement = update(ChatParticipant).where(
        ChatParticipant.chat_id.in_(ids), ChatParticipant.hidden_at.is_not(None)
    )
    if user_id is not None:
        statement = statement.where(ChatParticipant.user_id == user_id)
    result = await session.execute(
        statement.values(hidden_at=None)
        .returning(ChatParticipant.chat_id, ChatParticipant.user_id)
        .execution_options(synchronize_session=False)
    )
    revealed: dict[uuid.UUID, list[uuid.UUID]] = {}
    for chat_id, member_id in result.all():
        revealed.setdefault(chat_id, []).append(member_id)
    return revealed


async def remove_participant(session: AsyncSession, chat_id: uuid.UUID, user_id: uuid.UUID) -> None:
    await session.execute(
        delete(ChatParticipant).where(
            ChatParticipant.chat_id == chat_id, ChatParticipant.user_id == user_id
        )
    )


async def next_seq(session: AsyncSession, chat_id: uuid.UUID, now: datetime) -> int:
    """Take the chat's next sequence number; on PostgreSQL this locks the chat row until commit."""
    result = await session.execute(
        update(Chat)
        .where(Chat.id == chat_id)
        .values(last_seq=Chat.last_seq + 1, last_message_at=now, updated_at=now)
        .returning(Chat.last_seq)
    )
    return int(result.scalar_one())


async def take_seqs(session: AsyncSession, chat_id: uuid.UUID, count: int, now: datetime) -> int:
    """Take ``count`` consecutive sequence numbers; returns the last (the first is last - count + 1).

    Like :func:`next_seq`, this locks the chat row until commit on PostgreSQL.
    """
    result = await session.execute(
        update(Chat)
        .where(Chat.id == chat_id)
        .values(last_seq=Chat.last_seq + count, last_message_at=now, updated_at=now)
        .returning(Chat.last_seq)
    )
    return int(result.scalar_one())


class TakenSeqs(NamedTuple):
    """What :func:`take_seqs_many` took in one chat, with the chat's name and type (the
    message payload names its chat, and only a private chat may be hidden)."""

    last: int
    name: str
    type: str


async def take_seqs_many(
    session: AsyncSession, counts: dict[uuid.UUID, int], now: datetime
) -> dict[uuid.UUID, TakenSeqs]:
    """:func:`take_seqs` for several chats in one statement; {chat id: what was taken}.

    One ``UPDATE ... WHERE id IN (...) RETURNING``: a batch of sends into a hundred
    chats costs one round trip, not a hundred. On PostgreSQL the chat rows stay locked
    until commit, as with :func:`take_seqs`.
    """
    if len(counts) == 1:  # straight to the driver (db/driver_sql.py)
        ((only, count),) = counts.items()
        values = {"chat": only, "count": count, "now": now}
        row = (await _TAKE_SEQS.run(session, values)).first()
        if row is None:
            raise LookupError("a chat disappeared while messages were being stored")
        return {only: TakenSeqs(int(row[0]), row[1], row[2])}
    increment = case(counts, value=Chat.id)
    statement = (
        update(Chat)
        .where(Chat.id.in_(list(counts)))
        .values(last_seq=Chat.last_seq + increment)
        .execution_options(synchronize_session=False)
    )
    result = await session.execute(
        statement.values(last_message_at=now, updated_at=now).returning(
            Chat.id, Chat.last_seq, Chat.name, Chat.type
        )
    )
    taken = {
        chat_id: TakenSeqs(int(last), name, kind) for chat_id, last, name, kind in result.all()
    }
    if len(taken) != len(counts):
        raise LookupError("a chat disappeared while messages were being stored")
    return taken


async def advance_read_markers(
    session: AsyncSession, positions: Sequence[tuple[uuid.UUID, uuid.UUID, int]]
) -> None:
    """Move several members' read and delivered positions forward to (chat, user, seq)
    in one statement (executemany); positions never move backwards."""
    if not positions:
        return
    rows = [{"chat": chat, "user": user, "seq": seq} for chat, user, seq in positions]
    await _ADVANCE_READ.run_many(session, rows)


_ADVANCE_READ = DriverSQL(
    'UPDATE chat_participants SET "lastReadSeq" = CASE WHEN "lastReadSeq" < :seq THEN :seq '
    'ELSE "lastReadSeq" END, "lastDeliveredSeq" = CASE WHEN "lastDeliveredSeq" < :seq '
    'THEN :seq ELSE "lastDeliveredSeq" END WHERE "chatId" = :chat AND "userId" = :user'
)
_HOLDS_A_DEVICE = holds_a_device('p."userId"')
_AUDIENCE = DriverSQL(
    f'SELECT p."userId", {_HOLDS_A_DEVICE} FROM chat_participants p WHERE p."chatId" = :chat'
)
_AUDIENCES = DriverSQL(
    f'SELECT p."chatId", p."userId", {_HOLDS_A_DEVICE} FROM chat_participants p'
    ' WHERE p."chatId" = ANY(:chats)'
)
_TAKE_SEQS = DriverSQL(
    'UPDATE chats SET "lastSeq" = "lastSeq" + :count, "lastMessageAt" = :now, "updatedAt" = :now '
    'WHERE id = :chat RETURNING "lastSeq", name, type'
)


async def advance_marker(
    session: AsyncSession,
    chat_id: uuid.UUID,
    user_id: uuid.UUID,
    *,
    read_seq: int | None = None,
    delivered_seq: int | None = None,
) -> bool:
    """Move a member's read/delivered position forward only; True when something moved."""
    moved = False
    if read_seq is not None:
        result = await session.execute(
            update(ChatParticipant)
            .where(
                ChatParticipant.chat_id == chat_id,
                ChatParticipant.user_id == user_id,
                ChatParticipant.last_read_seq < read_seq,
            )
            .values(last_read_seq=read_seq)
        )
        moved = moved or bool(result.rowcount)  # type: ignore[attr-defined]
    marker = delivered_seq if delivered_seq is not None else read_seq
    if marker is not None:
        result = await session.execute(
            update(ChatParticipant)
            .where(
                ChatParticipant.chat_id == chat_id,
                ChatParticipant.user_id == user_id,
                ChatParticipant.last_delivered_seq < marker,
            )
            .values(last_delivered_seq=marker)
        )
        moved = moved or bool(result.rowcount)  # type: ignore[attr-defined]
    return moved
