"""Group history for newcomers (a per-group setting) and index-friendly sync queries.

- ``chats.newMembersSeeHistory``: whether members added to a group later read its
  earlier messages (true, the default, as families expect) or only what is sent
  after they joined. ``chat_participants.historyFromSeq`` is where a member's
  visible history begins (0: all of it).
- Partial indexes on ``sync_log`` for the two entry kinds ``GET /sync`` reads
  outside the member's chats (their removals, member changes), so a catch-up from
  an old cursor reads only its own entries (repositories/sync.py).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

REMOVED = sa.text("kind = 'removed'")
USER = sa.text("kind = 'user'")


def upgrade() -> None:
    with op.batch_alter_table("chats") as batch:
        batch.add_column(
            sa.Column(
                "newMembersSeeHistory", sa.Boolean(), nullable=False, server_default=sa.true()
            )
        )
    with op.batch_alter_table("chat_participants") as batch:
        batch.add_column(
            sa.Column("historyFromSeq", sa.Integer(), nullable=False, server_default="0")
        )
    op.create_index(
        "ix_sync_log_removed",
        "sync_log",
        ["userId", "id"],
        sqlite_where=REMOVED,
        postgresql_where=REMOVED,
    )
    op.create_index(
        "ix_sync_log_user", "sync_log", ["id"], sqlite_where=USER, postgresql_where=USER
    )


def downgrade() -> None:
    op.drop_index("ix_sync_log_user", table_name="sync_log")
    op.drop_index("ix_sync_log_removed", table_name="sync_log")
    with op.batch_alter_table("chat_participants") as batch:
        batch.drop_column("historyFromSeq")
    with op.batch_alter_table("chats") as batch:
        batch.drop_column("newMembersSeeHistory")
