from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from inner_circle.server.db.models.base import Base
from inner_circle.server.db.types import UTCDateTime

# Deleted messages, by place: unread counts leave them out (repositories/messages.py).
DELETED = text('"deletedAt" IS NOT NULL')
# Pinned messages, by chat: the pin bar (services/pins.py).
PINNED = text('"pinnedAt" IS NOT NULL')


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
        Index(
            "ix_messages_pinned",
            "chatId",
            "pinnedAt",
            sqlite_where=PINNED,
            postgresql_where=PINNED,
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
    # ``content`` is the generated text fallback of an attachment message without a
    # caption (what the seed's app shows), not the member's own words.
    content_is_fallback: Mapped[bool] = mapped_column(
        "contentIsFallback", Boolean, default=False, server_default=text("false")
    )
    # Rich messaging (ADR 14). The quoted message is of the same chat.
    reply_to_id: Mapped[uuid.UUID | None] = mapped_column("replyToId", Uuid, nullable=True)
    # Where a forwarded message first came from (no foreign keys: the origin may go).
    forwarded_message_id: Mapped[uuid.UUID | None] = mapped_column(
        "forwardedMessageId", Uuid, nullable=True
    )
    forwarded_chat_id: Mapped[uuid.UUID | None] = mapped_column(
        "forwardedChatId", Uuid, nullable=True
    )
    forwarded_sender_id: Mapped[uuid.UUID | None] = mapped_column(
        "forwardedSenderId", Uuid, nullable=True
    )
    pinned_at: Mapped[datetime | None] = mapped_column("pinnedAt", UTCDateTime, nullable=True)
    pinned_by_id: Mapped[uuid.UUID | None] = mapped_column("pinnedById", Uuid, nullable=True)
    # "text", or "call": an entry a finished call wrote (``call`` holds its summary).
    kind: Mapped[str] = mapped_column(String(8), server_default="text", default="text")
    call: Mapped[dict[str, Any] | None] = mapped_column("call", JSON, nullable=True)
