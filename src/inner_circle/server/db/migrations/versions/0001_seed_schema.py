"""The seed's schema (NestJS/TypeORM), created only where it is missing.

A database made by the seed already has these tables: they are adopted as they
are, and 0002 adds what Inner Circle needs on top.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _exists(table: str) -> bool:
    return sa.inspect(op.get_bind()).has_table(table)


def upgrade() -> None:
    if not _exists("users"):
        op.create_table(
            "users",
            sa.Column("id", sa.Uuid(), primary_key=True),
            sa.Column("username", sa.String(), nullable=False, unique=True),
            sa.Column("passwordHash", sa.String(), nullable=False),
            sa.Column("isAdmin", sa.Boolean(), server_default=sa.false()),
            sa.Column("invitationCode", sa.String(), nullable=True),
            sa.Column("createdAt", sa.DateTime(), server_default=sa.func.current_timestamp()),
            sa.Column("updatedAt", sa.DateTime(), server_default=sa.func.current_timestamp()),
        )
        op.create_index("idx_users_username", "users", ["username"])
        op.create_index("idx_users_invitation_code", "users", ["invitationCode"])
    if not _exists("invitation_codes"):
        op.create_table(
            "invitation_codes",
            sa.Column("id", sa.Uuid(), primary_key=True),
            sa.Column("code", sa.String(), nullable=False, unique=True),
            sa.Column("isUsed", sa.Boolean(), server_default=sa.false()),
            sa.Column("usedByUserId", sa.Uuid(), sa.ForeignKey("users.id"), nullable=True),
            sa.Column("usedAt", sa.DateTime(), nullable=True),
            sa.Column("createdAt", sa.DateTime(), server_default=sa.func.current_timestamp()),
            sa.Column("updatedAt", sa.DateTime(), server_default=sa.func.current_timestamp()),
        )
        op.create_index("idx_invitation_codes_code", "invitation_codes", ["code"])
        op.create_index("idx_invitation_codes_used", "invitation_codes", ["isUsed"])
    if not _exists("chats"):
        op.create_table(
            "chats",
            sa.Column("id", sa.Uuid(), primary_key=True),
            sa.Column("name", sa.String(), nullable=False),
            sa.Column("createdAt", sa.DateTime(), server_default=sa.func.current_timestamp()),
            sa.Column("updatedAt", sa.DateTime(), server_default=sa.func.current_timestamp()),
        )
    if not _exists("messages"):
        op.create_table(
            "messages",
            sa.Column("id", sa.Uuid(), primary_key=True),
            sa.Column("content", sa.Text(), nullable=False),
            sa.Column("senderId", sa.Uuid(), sa.ForeignKey("users.id"), nullable=False),
            sa.Column("chatId", sa.Uuid(), sa.ForeignKey("chats.id"), nullable=False),
            sa.Column("createdAt", sa.DateTime(), server_default=sa.func.current_timestamp()),
            sa.Column("updatedAt", sa.DateTime(), server_default=sa.func.current_timestamp()),
        )
        op.create_index("idx_messages_chat_created", "messages", ["chatId", "createdAt"])
        op.create_index("idx_messages_sender", "messages", ["senderId"])
    if not _exists("chat_participants"):
        op.create_table(
            "chat_participants",
            sa.Column(
                "chatId", sa.Uuid(), sa.ForeignKey("chats.id", ondelete="CASCADE"), primary_key=True
            ),
            sa.Column(
                "userId", sa.Uuid(), sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
            ),
        )


def downgrade() -> None:
    for table in ("chat_participants", "messages", "chats", "invitation_codes", "users"):
        op.drop_table(table)
