from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from inner_circle.server.db.models.base import Base
from inner_circle.server.db.types import UTCDateTime


class InvitationCode(Base):
    __tablename__ = "invitation_codes"
    __table_args__ = (
        Index("idx_invitation_codes_code", "code"),
        Index("idx_invitation_codes_used", "isUsed"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    code: Mapped[str] = mapped_column(String, unique=True)
    is_used: Mapped[bool] = mapped_column("isUsed", Boolean, default=False)
    used_by_user_id: Mapped[uuid.UUID | None] = mapped_column(
        "usedByUserId", Uuid, ForeignKey("users.id"), nullable=True
    )
    used_at: Mapped[datetime | None] = mapped_column("usedAt", UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column("createdAt", UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column("updatedAt", UTCDateTime)
    # Inner Circle additions
    usage_limit: Mapped[int] = mapped_column("usageLimit", Integer, default=1)
    used_count: Mapped[int] = mapped_column("usedCount", Integer, default=0)
    expires_at: Mapped[datetime | None] = mapped_column("expiresAt", UTCDateTime, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column("revokedAt", UTCDateTime, nullable=True)
    grants_admin: Mapped[bool] = mapped_column("grantsAdmin", Boolean, default=False)
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(
        "createdById", Uuid, ForeignKey("users.id"), nullable=True
    )
