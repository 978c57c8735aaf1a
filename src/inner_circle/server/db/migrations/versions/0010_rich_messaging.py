"""Rich messaging (ADR 14): replies, forwards, pins, reactions, mentions.

- ``messages``: ``replyToId``; ``forwardedMessageId``/``forwardedChatId``/
  ``forwardedSenderId`` (the origin of a forward); ``pinnedAt``/``pinnedById`` with a
  partial index of the pinned messages per chat.
- ``message_reactions``: one row per (message, member, emoji).
- ``message_mentions``: one row per (message, mentioned member), with the chat and place
  so unread mentions are counted per chat.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

PINNED = sa.text('"pinnedAt" IS NOT NULL')
COLUMNS = (
    "replyToId",
    "forwardedMessageId",
    "forwardedChatId",
    "forwardedSenderId",
    "pinnedById",
)


def _message_and_member() -> list[sa.Column[object]]:
    """The key both new tables start with: a message and a member (rows go with either)."""
    return [
        sa.Column(
            "messageId",
            sa.Uuid(),
            sa.ForeignKey("messages.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "userId", sa.Uuid(), sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
        ),
    ]


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        for name in COLUMNS:
            batch.add_column(sa.Column(name, sa.Uuid(), nullable=True))
        batch.add_column(sa.Column("pinnedAt", sa.DateTime(), nullable=True))
    op.create_index(
        "ix_messages_pinned",
        "messages",
        ["chatId", "pinnedAt"],
        sqlite_where=PINNED,
        postgresql_where=PINNED,
    )
    op.create_table(
        "message_reactions",
        *_message_and_member(),
        sa.Column("emoji", sa.String(64), primary_key=True),
        sa.Column("createdAt", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "message_mentions",
        *_message_and_member(),
        sa.Column("chatId", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
    )
    op.create_index(
        "ix_message_mentions_user_chat", "message_mentions", ["userId", "chatId", "seq"]
    )


def downgrade() -> None:
    op.drop_index("ix_message_mentions_user_chat", table_name="message_mentions")
    op.drop_table("message_mentions")
    op.drop_table("message_reactions")
    op.drop_index("ix_messages_pinned", table_name="messages")
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("pinnedAt")
        for name in reversed(COLUMNS):
            batch.drop_column(name)
