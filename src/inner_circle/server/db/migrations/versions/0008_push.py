"""Push notifications: Web Push subscriptions, chat mutes, notification preferences.

- ``push_subscriptions``: one row per browser subscription (its endpoint and keys),
  bound to the sign-in session that made it.
- ``chat_mutes``: a member's mute of one chat, until a time or for good (NULL).
- ``push_preferences``: per member, whether notifications show the message text.

FCM tokens of the seed's app stay in ``fcm_tokens`` (0005).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "push_subscriptions",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column(
            "userId", sa.Uuid(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("sessionId", sa.Uuid(), nullable=False),
        sa.Column("endpoint", sa.String(2048), nullable=False, unique=True),
        sa.Column("p256dh", sa.String(128), nullable=False),
        sa.Column("auth", sa.String(64), nullable=False),
        sa.Column("expiresAt", sa.DateTime(), nullable=True),
        sa.Column("createdAt", sa.DateTime(), nullable=False),
        sa.Column("updatedAt", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_push_subscriptions_userId", "push_subscriptions", ["userId"])
    op.create_index("ix_push_subscriptions_sessionId", "push_subscriptions", ["sessionId"])
    op.create_table(
        "chat_mutes",
        sa.Column(
            "chatId",
            sa.Uuid(),
            sa.ForeignKey("chats.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "userId",
            sa.Uuid(),
            sa.ForeignKey("users.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("until", sa.DateTime(), nullable=True),
    )
    op.create_table(
        "push_preferences",
        sa.Column(
            "userId",
            sa.Uuid(),
            sa.ForeignKey("users.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("showText", sa.Boolean(), nullable=False, server_default=sa.true()),
    )


def downgrade() -> None:
    op.drop_table("push_preferences")
    op.drop_table("chat_mutes")
    op.drop_index("ix_push_subscriptions_sessionId", table_name="push_subscriptions")
    op.drop_index("ix_push_subscriptions_userId", table_name="push_subscriptions")
    op.drop_table("push_subscriptions")
