"""Rich messaging (ADR 14): reactions and mentions. Replies, forwards and pins are
columns of ``messages``."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from inner_circle.server.db.models.base import Base
from inner_circle.server.db.types import UTCDateTime


class MessageReaction(Base):
    """One member's emoji on one message: the key makes toggles idempotent."""

    __tablename__ = "message_reactions"

    message_id: Mapped[uuid.UUID] = mapped_column(
        "messageId", Uuid, ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(
        "userId", Uuid, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    emoji: Mapped[str] = mapped_column(String(64), primary_key=True)
    created_at: Mapped[datetime] = mapped_column("createdAt", UTCDateTime)


class MessageMention(Base):
    """A member a message mentions; ``chatId``/``seq`` count unread mentions per chat."""

    __tablename__ = "message_mentions"
    __table_args__ = (Index("ix_message_mentions_user_chat", "userId", "chatId", "seq"),)

    message_id: Mapped[uuid.UUID] = mapped_column(
        "messageId", Uuid, ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(
        "userId", Uuid, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    chat_id: Mapped[uuid.UUID] = mapped_column("chatId", Uuid)
    seq: Mapped[int] = mapped_column(Integer)
