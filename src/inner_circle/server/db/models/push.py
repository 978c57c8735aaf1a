"""Push notifications: Web Push subscriptions, per-chat mutes, per-member preferences."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String, Uuid, true
from sqlalchemy.orm import Mapped, mapped_column

from inner_circle.server.db.models.base import Base
from inner_circle.server.db.types import UTCDateTime

__all__ = ["ChatMute", "PushPreference", "PushSubscription"]


class PushSubscription(Base):
    """A browser's Web Push subscription, bound to the sign-in session that made it."""

    __tablename__ = "push_subscriptions"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(
        "userId", Uuid, ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    # The session (refresh-token family) that registered it; logout forgets it.
    session_id: Mapped[uuid.UUID] = mapped_column("sessionId", Uuid, index=True)
    endpoint: Mapped[str] = mapped_column(String(2048), unique=True)
    p256dh: Mapped[str] = mapped_column(String(128))
    auth: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime | None] = mapped_column("expiresAt", UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column("createdAt", UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column("updatedAt", UTCDateTime)


class ChatMute(Base):
    """A member muted a chat until ``until`` (NULL: for good)."""

    __tablename__ = "chat_mutes"

    chat_id: Mapped[uuid.UUID] = mapped_column(
        "chatId", Uuid, ForeignKey("chats.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(
        "userId", Uuid, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    until: Mapped[datetime | None] = mapped_column("until", UTCDateTime, nullable=True)


class PushPreference(Base):
    """A member's notification preferences (no row: the defaults)."""

    __tablename__ = "push_preferences"

    user_id: Mapped[uuid.UUID] = mapped_column(
        "userId", Uuid, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    show_text: Mapped[bool] = mapped_column(
        "showText", Boolean, default=True, server_default=true()
    )
