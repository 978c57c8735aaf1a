from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Uuid, text, true
from sqlalchemy.orm import Mapped, mapped_column

from inner_circle.server.db.models.base import Base
from inner_circle.server.db.types import UTCDateTime

# At most one family chat: processes starting together on an empty database may both
# try to create it; the index makes the second insert a no-op (repositories/chats.py).
FAMILY = text("type = 'family'")


class Chat(Base):
    __tablename__ = "chats"
    __table_args__ = (
        Index("uq_chats_family", "type", unique=True, sqlite_where=FAMILY, postgresql_where=FAMILY),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String)
    created_at: Mapped[datetime] = mapped_column("createdAt", UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column("updatedAt", UTCDateTime)
    # Inner Circle additions
    type: Mapped[str] = mapped_column(String(16), default="group")
    # The last sequence number given to a message here; the row is the per-chat counter.
    last_seq: Mapped[int] = mapped_column("lastSeq", Integer, default=0)
    # "<smaller id>:<larger id>" for a private chat, so a pair can never get two.
    private_key: Mapped[str | None] = mapped_column(
        "privateKey", String, unique=True, nullable=True
    )
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(
        "createdById", Uuid, ForeignKey("users.id"), nullable=True
    )
    last_message_at: Mapped[datetime | None] = mapped_column(
        "lastMessageAt", UTCDateTime, nullable=True
    )
    # A group's choice: members added later read its earlier messages (the default), or
    # only what is sent after they joined (ChatParticipant.history_from_seq).
    new_members_see_history: Mapped[bool] = mapped_column(
        "newMembersSeeHistory", Boolean, default=True, server_default=true()
    )


class ChatParticipant(Base):
    __tablename__ = "chat_participants"

    chat_id: Mapped[uuid.UUID] = mapped_column(
        "chatId", Uuid, ForeignKey("chats.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(
        "userId", Uuid, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    # Inner Circle additions
    last_read_seq: Mapped[int] = mapped_column("lastReadSeq", Integer, default=0)
    last_delivered_seq: Mapped[int] = mapped_column("lastDeliveredSeq", Integer, default=0)
    joined_at: Mapped[datetime | None] = mapped_column("joinedAt", UTCDateTime, nullable=True)
    # The member sees the chat's messages with a larger seq only: the chat's last seq when
    # they joined a group that keeps earlier history from newcomers, else 0 (everything).
    history_from_seq: Mapped[int] = mapped_column(
        "historyFromSeq", Integer, default=0, server_default="0"
    )
    # Set when the member deleted a private chat from their list (``DELETE /chats/:id``);
    # cleared when either side writes or the member opens it again.
    hidden_at: Mapped[datetime | None] = mapped_column("hiddenAt", UTCDateTime, nullable=True)
