from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from inner_circle.core import usernames
from inner_circle.server.db.models.base import Base
from inner_circle.server.db.types import UTCDateTime


class User(Base):
    __tablename__ = "users"
    __table_args__ = (
        Index("idx_users_username", "username"),
        Index("idx_users_invitation_code", "invitationCode"),
        Index("ix_users_username_folded", "usernameFolded", unique=True),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    username: Mapped[str] = mapped_column(String, unique=True)
    password_hash: Mapped[str] = mapped_column("passwordHash", String)
    is_admin: Mapped[bool] = mapped_column("isAdmin", Boolean, default=False)
    invitation_code: Mapped[str | None] = mapped_column("invitationCode", String, nullable=True)
    created_at: Mapped[datetime] = mapped_column("createdAt", UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column("updatedAt", UTCDateTime)
    # Inner Circle additions
    display_name: Mapped[str | None] = mapped_column("displayName", String, nullable=True)
    is_active: Mapped[bool] = mapped_column("isActive", Boolean, default=True)
    last_seen_at: Mapped[datetime | None] = mapped_column("lastSeenAt", UTCDateTime, nullable=True)
    # Bumped on password change, reset and deactivation: access tokens carry it, so old ones die.
    token_version: Mapped[int] = mapped_column("tokenVersion", Integer, default=0)
    # core.usernames.fold(username): what makes 'Бабушка' and 'бабушка' one name. NULL only
    # for a seed-era name whose fold collides with an older one (see migration 0005).
    username_folded: Mapped[str | None] = mapped_column("usernameFolded", String, nullable=True)

    @property
    def shown_name(self) -> str:
        return usernames.shown_name(self.username, self.display_name)


class RefreshToken(Base):
    """One refresh token of a session family; only its SHA-256 is stored."""

    __tablename__ = "refresh_tokens"
    __table_args__ = (Index("ix_refresh_tokens_family", "familyId"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(
        "userId", Uuid, ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column("tokenHash", String(64), unique=True)
    family_id: Mapped[uuid.UUID] = mapped_column("familyId", Uuid)
    created_at: Mapped[datetime] = mapped_column("createdAt", UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column("expiresAt", UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column("usedAt", UTCDateTime, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column("revokedAt", UTCDateTime, nullable=True)


class FcmToken(Base):
    """A device's Firebase Cloud Messaging token; one per session, gone when the session ends."""

    __tablename__ = "fcm_tokens"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(
        "userId", Uuid, ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    # The session (refresh-token family) that registered it.
    session_id: Mapped[uuid.UUID] = mapped_column("sessionId", Uuid, unique=True)
    token: Mapped[str] = mapped_column(String)
    created_at: Mapped[datetime] = mapped_column("createdAt", UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column("updatedAt", UTCDateTime)
