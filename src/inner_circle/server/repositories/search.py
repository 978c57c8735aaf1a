"""Search index writes and full-text queries (ADR 0015). Never commits.

The index row of a message is written with the message, rewritten by an edit and
removed by a deletion, in the caller's transaction. Queries go to the database's own
full-text index: FTS5 on SQLite, a GIN-indexed ``tsvector`` on PostgreSQL; both index
the same stems, so both answer alike.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Integer, Uuid, bindparam, column, delete, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from inner_circle.core.search_terms import Query, terms
from inner_circle.server.db.driver_sql import insert_sql
from inner_circle.server.db.models import Chat, Message, MessageSearch, User
from inner_circle.server.repositories.messages import StoredMessage

__all__ = ["Filters", "find", "forget", "index", "plan_each_search", "reindex"]


async def index(session: AsyncSession, messages: Iterable[Message | StoredMessage]) -> None:
    """Index new messages (one statement); a message without words gets no row."""
    rows = [
        {
            "message_id": m.id,
            "chat_id": m.chat_id,
            "sender_id": m.sender_id,
            "seq": m.seq,
            "terms": found,
        }
        for m in messages
        # The text fallback of a message with files ("📷 Photo") is not the sender's words.
        if not m.content_is_fallback and (found := terms(m.content))
    ]
    await _INDEX.run_many(session, _columns(rows))


_INDEX = insert_sql(MessageSearch.__table__, generated=("id",))


_COLUMN_NAMES = {attr.key: attr.columns[0].name for attr in MessageSearch.__mapper__.column_attrs}


def _columns(rows: list[dict[str, object]]) -> list[dict[str, object]]:
    return [{_COLUMN_NAMES[key]: value for key, value in row.items()} for row in rows]


async def reindex(session: AsyncSession, message: Message) -> None:
    """The message's text changed: index its new words (keeping its place in the order)."""
    found = terms(message.content)
    if not found:
        await forget(session, message.id)
        return
    result = await session.execute(
        update(MessageSearch).where(MessageSearch.message_id == message.id).values(terms=found)
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        await index(session, [message])


async def forget(session: AsyncSession, message_id: uuid.UUID) -> None:
    """The message is gone: it must never match again."""
    await session.execute(delete(MessageSearch).where(MessageSearch.message_id == message_id))


@dataclass(frozen=True, slots=True)
class Filters:
    chat_id: uuid.UUID | None = None
    sender_id: uuid.UUID | None = None
    before: int | None = None
    # Only messages with files of these kinds (``has=photo|file|voice`` of GET /search).
    kinds: tuple[str, ...] = ()


# The chats the member is in today, and in each only the messages they may read (a
# member who joined a group that keeps its history from newcomers: what came after).
_VISIBLE = """
    JOIN chat_participants p ON p."chatId" = s."chatId" AND p."userId" = :user_id
    WHERE {match} AND s.seq > p."historyFromSeq"
"""
_SQLITE = (
    'SELECT s.id, s."messageId" FROM message_search_fts f '
    "CROSS JOIN message_search s ON s.id = f.rowid"
    + _VISIBLE.format(match="message_search_fts MATCH :match")
)
_POSTGRES = 'SELECT s.id, s."messageId" FROM message_search s' + _VISIBLE.format(
    match="s.tsv @@ to_tsquery('simple', :match)"
)


def _sqlite_match(query: Query) -> str:
    parts = [f'"{word}"' for word in query.words]
    if query.prefix:
        parts.append(f'"{query.prefix}" *')
    return " AND ".join(parts)


def _postgres_match(query: Query) -> str:
    parts = [f"'{word}'" for word in query.words]
    if query.prefix:
        parts.append(f"'{query.prefix}':*")
    return " & ".join(parts)


Found = tuple[int, Message, User, str]


async def plan_each_search(session: AsyncSession) -> None:
    """Make :func:`find` plan each search for its own words; call before anything else in
    the unit of work (it opens a transaction where a reader has none, ``db/uow.py``).

    On PostgreSQL a prepared statement may fall back to a generic plan that cannot know
    how common the words are: a word in half the messages needs another plan than a rare
    one. ``SET LOCAL`` lasts until the transaction ends.
    """
    if session.get_bind().dialect.name != "postgresql":
        return
    await session.connection(execution_options={"isolation_level": "READ COMMITTED"})
    await session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))


async def find(
    session: AsyncSession, user_id: uuid.UUID, query: Query, filters: Filters, limit: int
) -> list[Found]:
    """Up to ``limit`` of the messages ``user_id`` may read that hold every word of
    ``query``, newest first (index ids below ``filters.before``), in one statement: each
    as (index id, message, sender, the chat's stored name)."""
    sqlite = session.get_bind().dialect.name == "sqlite"
    # SQLite: FTS5 walks its matches in rowid order itself, so the order is the FTS rowid.
    key = "f.rowid" if sqlite else "s.id"
    sql = _SQLITE if sqlite else _POSTGRES
    params: dict[str, object] = {
        "user_id": user_id,
        "match": _sqlite_match(query) if sqlite else _postgres_match(query),
        "limit": limit,
    }
    if filters.chat_id is not None:
        sql += ' AND s."chatId" = :chat_id'
        params["chat_id"] = filters.chat_id
    if filters.sender_id is not None:
        sql += ' AND s."senderId" = :sender_id'
        params["sender_id"] = filters.sender_id
    if filters.kinds:
        # Constants of this module, never user text (the edge maps ``has`` to them).
        kinds = ", ".join(f"'{kind}'" for kind in filters.kinds if kind.isalpha())
        sql += (
            ' AND EXISTS (SELECT 1 FROM attachments a WHERE a."messageId" = s."messageId"'
            f" AND a.kind IN ({kinds}))"
        )
    if filters.before is not None:
        sql += f" AND {key} < :before"
        params["before"] = filters.before
    sql += f" ORDER BY {key} DESC LIMIT :limit"
    hits = (
        text(sql)
        .bindparams(*(bindparam(name, type_=Uuid) for name in params if name.endswith("_id")))
        .columns(column("id", Integer), column("messageId", Uuid))
        .subquery("hits")
    )
    statement = (
        select(hits.c.id, Message, User, Chat.name)
        .join(Message, Message.id == hits.c.messageId)
        .join(User, User.id == Message.sender_id)
        .join(Chat, Chat.id == Message.chat_id)
        .order_by(hits.c.id.desc())
    )
    result = await session.execute(statement, params)
    return [(row_id, message, user, name) for row_id, message, user, name in result.all()]
