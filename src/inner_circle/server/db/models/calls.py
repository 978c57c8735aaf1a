"""Calls: the call row (the seed's columns), who took part, and who is on a line now."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Uuid, false
from sqlalchemy.orm import Mapped, mapped_column

from inner_circle.server.db.models.base import Base
from inner_circle.server.db.types import UTCDateTime

__all__ = ["Call", "CallLine", "CallMember"]


class Call(Base):
    """One call. ``status`` changes only through conditional UPDATEs (services/calls.py)."""

    __tablename__ = "calls"
    __table_args__ = (Index("ix_calls_status_ring", "status", "ringUntil"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    caller_id: Mapped[uuid.UUID] = mapped_column(
        "callerId", Uuid, ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    # NULL for a group call (its members are in call_members).
    receiver_id: Mapped[uuid.UUID | None] = mapped_column(
        "receiverId", Uuid, ForeignKey("users.id", ondelete="CASCADE"), nullable=True, index=True
    )
    chat_id: Mapped[uuid.UUID | None] = mapped_column(
        "chatId", Uuid, ForeignKey("chats.id", ondelete="SET NULL"), nullable=True
    )
    status: Mapped[str] = mapped_column(String(16))
    type: Mapped[str] = mapped_column(String(8))
    started_at: Mapped[datetime | None] = mapped_column("startedAt", UTCDateTime, nullable=True)
    ended_at: Mapped[datetime | None] = mapped_column("endedAt", UTCDateTime, nullable=True)
    duration: Mapped[int | None] = mapped_column(Integer, nullable=True)  # seconds (the seed)
    duration_ms: Mapped[int | None] = mapped_column("durationMs", Integer, nullable=True)
    end_reason: Mapped[str | None] = mapped_column("endReason", String(24), nullable=True)
    caller_ice_candidates: Mapped[list[Any] | None] = mapped_column(
        "callerIceCandidates", JSON, nullable=True
    )
    receiver_ice_candidates: Mapped[list[Any] | None] = mapped_column(
        "receiverIceCandidates", JSON, nullable=True
    )
    sdp_offer: Mapped[dict[str, Any] | None] = mapped_column("sdpOffer", JSON, nullable=True)
    # The callee's connection that accepted: later signaling goes to that device only.
    answered_sid: Mapped[str | None] = mapped_column("answeredSid", String(64), nullable=True)
    # Its sign-in session: a connection of that session that opens after the answering one
    # closed (a reconnect) takes its place, so signaling such as an ICE restart reaches it.
    answered_session: Mapped[uuid.UUID | None] = mapped_column(
        "answeredSession", Uuid, nullable=True
    )
    ring_until: Mapped[datetime] = mapped_column("ringUntil", UTCDateTime)
    created_at: Mapped[datetime] = mapped_column("createdAt", UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column("updatedAt", UTCDateTime)


class CallMember(Base):
    """A member a call was for: its history and, for group calls, who is in it now."""

    __tablename__ = "call_members"

    call_id: Mapped[uuid.UUID] = mapped_column(
        "callId", Uuid, ForeignKey("calls.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(
        "userId", Uuid, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    # In the call now (1:1: both once accepted; group: joined and not left).
    joined: Mapped[bool] = mapped_column(Boolean, server_default=false(), default=False)
    # Removed from this member's history (DELETE /calls/:id); the others keep it.
    hidden: Mapped[bool] = mapped_column(Boolean, server_default=false(), default=False)
    # The connection a group call was joined from: when it closes, the member leaves.
    sid: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)


class CallLine(Base):
    """A member on a live call: the primary key makes a second line a conflict (busy)."""

    __tablename__ = "call_lines"

    user_id: Mapped[uuid.UUID] = mapped_column(
        "userId", Uuid, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    call_id: Mapped[uuid.UUID] = mapped_column(
        "callId", Uuid, ForeignKey("calls.id", ondelete="CASCADE"), index=True
    )
