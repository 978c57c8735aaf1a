"""The search index: one row per message that can be found (ADR 0015)."""

from __future__ import annotations

import uuid

from sqlalchemy import BigInteger, ForeignKey, Identity, Integer, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from inner_circle.server.db.models.base import Base

__all__ = ["SEARCH_FTS", "MessageSearch"]

# SQLite's FTS5 table over ``message_search.terms`` (migration 0011).
SEARCH_FTS = "message_search_fts"

# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL gets a BIGINT identity.
SearchId = BigInteger().with_variant(Integer(), "sqlite")


class MessageSearch(Base):
    """A message's stemmed words (``core.search_terms.terms``), written in the same
    transaction as the message, its edits and its deletion (which removes the row).

    The id grows with every message indexed: results come newest first by it, and it is
    the paging cursor. The full-text index over ``terms`` is the database's own (SQLite:
    the FTS5 table ``message_search_fts``; PostgreSQL: the generated ``tsv`` column and
    its GIN index), created by migration 0011 and kept out of this model.
    """

    __tablename__ = "message_search"
    id: Mapped[int] = mapped_column(SearchId, Identity(), primary_key=True)
    message_id: Mapped[uuid.UUID] = mapped_column(
        "messageId", Uuid, ForeignKey("messages.id", ondelete="CASCADE"), unique=True
    )
    chat_id: Mapped[uuid.UUID] = mapped_column("chatId", Uuid)
    sender_id: Mapped[uuid.UUID] = mapped_column("senderId", Uuid)
    seq: Mapped[int] = mapped_column(Integer)
    terms: Mapped[str] = mapped_column(Text)
