"""Calls: the seed's ``calls`` table, call members and lines; call entries in chats.

- ``calls``: the seed's columns (status, type, times, duration, SDP offer, ICE
  candidates kept while the callee is offline) plus ``chatId`` (group calls),
  ``durationMs``, ``endReason``, ``answeredSid`` and ``ringUntil`` (docs/calls.md).
- ``call_members``: whom a call was for (history, hiding, group participants).
- ``call_lines``: one row per member on a live call; its primary key makes a second
  call to a busy member a conflict the database decides (ADR 16).
- ``messages.kind`` / ``messages.call``: the chat entry a finished call writes.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "calls",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column(
            "callerId", sa.Uuid(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column(
            "receiverId", sa.Uuid(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=True
        ),
        sa.Column(
            "chatId", sa.Uuid(), sa.ForeignKey("chats.id", ondelete="SET NULL"), nullable=True
        ),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("type", sa.String(8), nullable=False),
        sa.Column("startedAt", sa.DateTime(), nullable=True),
        sa.Column("endedAt", sa.DateTime(), nullable=True),
        sa.Column("duration", sa.Integer(), nullable=True),
        sa.Column("durationMs", sa.Integer(), nullable=True),
        sa.Column("endReason", sa.String(24), nullable=True),
        sa.Column("callerIceCandidates", sa.JSON(), nullable=True),
        sa.Column("receiverIceCandidates", sa.JSON(), nullable=True),
        sa.Column("sdpOffer", sa.JSON(), nullable=True),
        sa.Column("answeredSid", sa.String(64), nullable=True),
        sa.Column("answeredSession", sa.Uuid(), nullable=True),
        sa.Column("ringUntil", sa.DateTime(), nullable=False),
        sa.Column("createdAt", sa.DateTime(), nullable=False),
        sa.Column("updatedAt", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_calls_callerId", "calls", ["callerId"])
    op.create_index("ix_calls_receiverId", "calls", ["receiverId"])
    op.create_index("ix_calls_status_ring", "calls", ["status", "ringUntil"])
    op.create_table(
        "call_members",
        sa.Column(
            "callId", sa.Uuid(), sa.ForeignKey("calls.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column(
            "userId", sa.Uuid(), sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("joined", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("hidden", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("sid", sa.String(64), nullable=True),
    )
    op.create_index("ix_call_members_userId", "call_members", ["userId"])
    op.create_index("ix_call_members_sid", "call_members", ["sid"])
    op.create_table(
        "call_lines",
        sa.Column(
            "userId", sa.Uuid(), sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column(
            "callId", sa.Uuid(), sa.ForeignKey("calls.id", ondelete="CASCADE"), nullable=False
        ),
    )
    op.create_index("ix_call_lines_callId", "call_lines", ["callId"])
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("kind", sa.String(8), nullable=False, server_default="text"))
        batch.add_column(sa.Column("call", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("call")
        batch.drop_column("kind")
    op.drop_index("ix_call_lines_callId", table_name="call_lines")
    op.drop_table("call_lines")
    op.drop_index("ix_call_members_sid", table_name="call_members")
    op.drop_index("ix_call_members_userId", table_name="call_members")
    op.drop_table("call_members")
    op.drop_index("ix_calls_status_ring", table_name="calls")
    op.drop_index("ix_calls_receiverId", table_name="calls")
    op.drop_index("ix_calls_callerId", table_name="calls")
    op.drop_table("calls")
