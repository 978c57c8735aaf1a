"""Media: uploads, blobs (stored contents by SHA-256) and message attachments.

- ``uploads``: tus uploads in progress (their bytes are staged in the data folder).
- ``blobs``: one row per distinct content; its variants live in the media store.
- ``attachments``: a finished upload, bound to one message once sent; indexed for the
  chat's "Media and files" list (newest first, by kind) and per-member storage use.
- ``messages.contentIsFallback``: the content is the text shown to clients that know no
  attachments ("📷 Photo"), not a caption.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "uploads",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column(
            "userId", sa.Uuid(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("offset", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("claimedType", sa.String(127), nullable=True),
        sa.Column("kindHint", sa.String(16), nullable=True),
        sa.Column("durationMs", sa.Integer(), nullable=True),
        sa.Column("waveform", sa.Text(), nullable=True),
        sa.Column("errorCode", sa.String(32), nullable=True),
        sa.Column("error", sa.String(500), nullable=True),
        sa.Column("createdAt", sa.DateTime(), nullable=False),
        sa.Column("updatedAt", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_uploads_user", "uploads", ["userId"])
    op.create_table(
        "blobs",
        sa.Column("sha256", sa.String(64), primary_key=True),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("storedBytes", sa.BigInteger(), nullable=False),
        sa.Column("mimeType", sa.String(127), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("durationMs", sa.Integer(), nullable=True),
        sa.Column("blurhash", sa.String(64), nullable=True),
        sa.Column("waveform", sa.Text(), nullable=True),
        sa.Column("variants", sa.String(64), nullable=False),
        sa.Column("createdAt", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "attachments",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column(
            "userId", sa.Uuid(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("blobSha", sa.String(64), sa.ForeignKey("blobs.sha256"), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("mimeType", sa.String(127), nullable=False),
        sa.Column("durationMs", sa.Integer(), nullable=True),
        sa.Column("waveform", sa.Text(), nullable=True),
        sa.Column(
            "messageId",
            sa.Uuid(),
            sa.ForeignKey("messages.id", ondelete="CASCADE"),
            nullable=True,
        ),
        sa.Column("chatId", sa.Uuid(), nullable=True),
        sa.Column("messageSeq", sa.Integer(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("createdAt", sa.DateTime(), nullable=False),
    )
    op.create_index(
        "ix_attachments_chat_media", "attachments", ["chatId", "messageSeq", "position"]
    )
    op.create_index(
        "ix_attachments_chat_kind", "attachments", ["chatId", "kind", "messageSeq", "position"]
    )
    op.create_index("ix_attachments_user", "attachments", ["userId"])
    op.create_index("ix_attachments_message", "attachments", ["messageId"])
    op.create_index("ix_attachments_blob", "attachments", ["blobSha"])
    op.add_column(
        "messages",
        sa.Column("contentIsFallback", sa.Boolean(), nullable=False, server_default=sa.false()),
    )


def downgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("contentIsFallback")
    op.drop_table("attachments")
    op.drop_table("blobs")
    op.drop_index("ix_uploads_user", table_name="uploads")
    op.drop_table("uploads")
