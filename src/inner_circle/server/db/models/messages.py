from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint, Uuid, text
from sqlalchemy.orm import Mapped, mapped_column

from inner_circle.server.db.models.base import Base
from inner_circle.server.db.types import UTCDateTime

# Deleted messages, by place: unread counts leave them out (repositories/messages.py).
DELETED = text('"deletedAt" IS NOT NULL')


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (
        Index("idx_messages_chat_created", "chatId", "createdAt"),
        Index("idx_messages_sender", "senderId"),
        UniqueConstraint("chatId", "seq", name="uq_messages_chat_seq"),
        UniqueConstraint("senderId", "clientMessageId", name="uq_messages_sender_client_id"),
        Index(
            "ix_messages_deleted",
            "chatId",
            "seq",
            sqlite_where=DELETED,
            postgresql_where=DELETED,
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    content: Mapped[str] = mapped_column(Text)
    sender_id: Mapped[uuid.UUID] = mapped_column("senderId", Uuid, ForeignKey("users.id"))
    chat_id: Mapped[uuid.UUID] = mapped_column("chatId", Uuid, ForeignKey("chats.id"))
    created_at: Mapped[datetime] = mapped_column("createdAt", UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column("updatedAt", UTCDateTime)
    # Inner Circle additions
    seq: Mapped[int] = mapped_column(Integer)
    client_message_id: Mapped[str | None] = mapped_column(
        "clientMessageId", String(64), nullable=True
    )
    edited_at: Mapped[datetime | None] = mapped_column("editedAt", UTCDateTime, nullable=True)
    # A deleted message keeps its place (seq) in the chat; its text is gone.
    deleted_at: Mapped[datetime | None] = mapped_column("deletedAt", UTCDateTime, nullable=True)
    # "text", or "call": an entry a finished call wrote (``call`` holds its summary).
    kind: Mapped[str] = mapped_column(String(8), server_default="text", default="text")
    call: Mapped[dict[str, Any] | None] = mapped_column("call", JSON, nullable=True)
