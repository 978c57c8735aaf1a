from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Identity, Index, Integer, String, Uuid, text
from sqlalchemy.orm import Mapped, mapped_column

from inner_circle.server.db.models.base import Base
from inner_circle.server.db.types import UTCDateTime

# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL gets a BIGINT identity.
SyncId = BigInteger().with_variant(Integer(), "sqlite")

# ``session.info`` key listing the entries a transaction added (rows by column name);
# the unit of work writes them at commit, with ids in commit order (``UnitOfWork.commit``).
NEW_ENTRIES = "inner_circle.sync_log.new"

# Entry kinds that partial indexes name (the SQL must spell them as literals to use them).
REMOVED = "removed"
USER = "user"


class SyncEntry(Base):
    """One change a client may have missed, in the order the server made it.

    The id is the sync cursor. Entries say *what* changed; ``GET /sync`` reads the
    current state of it (a renamed chat is served with its newest name), so the
    log stays small and can never disagree with the tables.
    """

    __tablename__ = "sync_log"
    __table_args__ = (
        Index("ix_sync_log_chat", "chatId", "id"),
        # Partial: the entries /sync reads outside a member's chats, without an index
        # entry per message (migration 0006).
        Index(
            "ix_sync_log_removed",
            "userId",
            "id",
            sqlite_where=text(f"kind = '{REMOVED}'"),
            postgresql_where=text(f"kind = '{REMOVED}'"),
        ),
        Index(
            "ix_sync_log_user",
            "id",
            sqlite_where=text(f"kind = '{USER}'"),
            postgresql_where=text(f"kind = '{USER}'"),
        ),
    )

    id: Mapped[int] = mapped_column(SyncId, Identity(), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[uuid.UUID | None] = mapped_column("chatId", Uuid, nullable=True)
    user_id: Mapped[uuid.UUID | None] = mapped_column("userId", Uuid, nullable=True)
    message_id: Mapped[uuid.UUID | None] = mapped_column("messageId", Uuid, nullable=True)
    seq: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column("createdAt", UTCDateTime)


class ServerState(Base):
    """Facts about this database itself. ``epoch``: the name of its history, part of every
    sync cursor; a new database gets one, and a restore replaces it (core/cursors.py)."""

    __tablename__ = "server_state"

    key: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[str] = mapped_column(String(64))
