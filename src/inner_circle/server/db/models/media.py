"""Media: uploads in progress, stored contents (blobs) and the attachments that use them."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from inner_circle.server.db.models.base import Base
from inner_circle.server.db.types import UTCDateTime


class Upload(Base):
    """A tus upload of one member: its bytes are staged in the data folder until complete."""

    __tablename__ = "uploads"
    __table_args__ = (Index("ix_uploads_user", "userId"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(
        "userId", Uuid, ForeignKey("users.id", ondelete="CASCADE")
    )
    # uploading -> processing -> ready | failed
    status: Mapped[str] = mapped_column(String(16))
    size: Mapped[int] = mapped_column(BigInteger)
    offset: Mapped[int] = mapped_column(BigInteger, default=0)
    name: Mapped[str] = mapped_column(String(255))
    claimed_type: Mapped[str | None] = mapped_column("claimedType", String(127), nullable=True)
    kind_hint: Mapped[str | None] = mapped_column("kindHint", String(16), nullable=True)
    duration_ms: Mapped[int | None] = mapped_column("durationMs", Integer, nullable=True)
    waveform: Mapped[str | None] = mapped_column(Text, nullable=True)
    error_code: Mapped[str | None] = mapped_column("errorCode", String(32), nullable=True)
    error: Mapped[str | None] = mapped_column(String(500), nullable=True)
    created_at: Mapped[datetime] = mapped_column("createdAt", UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column("updatedAt", UTCDateTime)


class Blob(Base):
    """One stored content, by the SHA-256 of the uploaded bytes (de-duplication), with what
    processing learned about it and the variants kept in the store."""

    __tablename__ = "blobs"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)  # of the served original
    stored_bytes: Mapped[int] = mapped_column("storedBytes", BigInteger)  # all variants
    mime_type: Mapped[str] = mapped_column("mimeType", String(127))
    kind: Mapped[str] = mapped_column(String(16))
    width: Mapped[int | None] = mapped_column(Integer, nullable=True)
    height: Mapped[int | None] = mapped_column(Integer, nullable=True)
    duration_ms: Mapped[int | None] = mapped_column("durationMs", Integer, nullable=True)
    blurhash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    waveform: Mapped[str | None] = mapped_column(Text, nullable=True)
    variants: Mapped[str] = mapped_column(String(64))  # comma-separated names
    created_at: Mapped[datetime] = mapped_column("createdAt", UTCDateTime)


class Attachment(Base):
    """A finished upload (same id), bound to at most one message once sent."""

    __tablename__ = "attachments"
    __table_args__ = (
        Index("ix_attachments_chat_media", "chatId", "messageSeq", "position"),
        Index("ix_attachments_chat_kind", "chatId", "kind", "messageSeq", "position"),
        Index("ix_attachments_user", "userId"),
        Index("ix_attachments_message", "messageId"),
        Index("ix_attachments_blob", "blobSha"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(
        "userId", Uuid, ForeignKey("users.id", ondelete="CASCADE")
    )
    blob_sha: Mapped[str] = mapped_column("blobSha", String(64), ForeignKey("blobs.sha256"))
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(BigInteger)
    mime_type: Mapped[str] = mapped_column("mimeType", String(127))
    duration_ms: Mapped[int | None] = mapped_column("durationMs", Integer, nullable=True)
    waveform: Mapped[str | None] = mapped_column(Text, nullable=True)
    message_id: Mapped[uuid.UUID | None] = mapped_column(
        "messageId", Uuid, ForeignKey("messages.id", ondelete="CASCADE"), nullable=True
    )
    chat_id: Mapped[uuid.UUID | None] = mapped_column("chatId", Uuid, nullable=True)
    message_seq: Mapped[int | None] = mapped_column("messageSeq", Integer, nullable=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column("createdAt", UTCDateTime)
