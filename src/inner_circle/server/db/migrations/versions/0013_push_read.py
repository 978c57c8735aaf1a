"""Push "read" notifications: which devices were shown a chat's notification.

- ``push_shown``: per device (Web Push subscription or FCM token) and chat, that a
  notification was pushed since the member last read the chat; reading it on another
  device sends one "read" push there and deletes the row (ADR 17).

Revision ID: 0013
Revises: 0008
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "push_shown",
        sa.Column("targetId", sa.Uuid(), primary_key=True),
        sa.Column(
            "chatId", sa.Uuid(), sa.ForeignKey("chats.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column(
            "userId", sa.Uuid(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("sessionId", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("shownAt", sa.DateTime(), nullable=False),
    )
    # A read looks the rows up by member and chat.
    op.create_index("ix_push_shown_userId_chatId", "push_shown", ["userId", "chatId"])


def downgrade() -> None:
    op.drop_index("ix_push_shown_userId_chatId", table_name="push_shown")
    op.drop_table("push_shown")
