"""The sync log: every change a reconnecting client may have missed, with a cursor.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sync_log",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            sa.Identity(),
            primary_key=True,
        ),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("chatId", sa.Uuid(), nullable=True),
        sa.Column("userId", sa.Uuid(), nullable=True),
        sa.Column("messageId", sa.Uuid(), nullable=True),
        sa.Column("seq", sa.Integer(), nullable=True),
        sa.Column("createdAt", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_sync_log_chat", "sync_log", ["chatId", "id"])


def downgrade() -> None:
    op.drop_table("sync_log")
