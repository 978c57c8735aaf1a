"""One family chat at most, deleted messages indexed for unread counts, a server epoch.

- ``uq_chats_family``: a unique partial index on ``chats.type`` where it is
  ``'family'``. Two server processes starting together on an empty PostgreSQL
  database could each find no family chat and create one; now the second insert
  conflicts and that process adopts the first one's chat. A database that already
  holds several keeps the oldest as the family chat; the others become groups
  (their members and messages stay).
- ``ix_messages_deleted``: deleted messages by ``(chatId, seq)``, so an unread count
  can leave out the deleted messages after a read position without reading the rest.
- ``server_state``: one row, ``epoch``, a random name for this database's history that
  every sync cursor carries (``<epoch>:<id>``). ``inner-circle restore`` replaces it, so
  a client holding a cursor from before the backup was restored starts fresh.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26
"""

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

FAMILY = sa.text("type = 'family'")
DELETED = sa.text('"deletedAt" IS NOT NULL')


def upgrade() -> None:
    state = op.create_table(
        "server_state",
        sa.Column("key", sa.String(32), primary_key=True),
        sa.Column("value", sa.String(64), nullable=False),
    )
    op.bulk_insert(state, [{"key": "epoch", "value": secrets.token_hex(4)}])
    bind = op.get_bind()
    chats = sa.table(
        "chats", sa.column("id"), sa.column("type"), sa.column("createdAt"), sa.column("name")
    )
    families = (
        bind.execute(
            sa.select(chats.c.id)
            .where(chats.c.type == "family")
            .order_by(chats.c.createdAt, chats.c.id)
        )
        .scalars()
        .all()
    )
    for extra in families[1:]:
        bind.execute(sa.update(chats).where(chats.c.id == extra).values(type="group"))
    op.create_index(
        "uq_chats_family",
        "chats",
        ["type"],
        unique=True,
        sqlite_where=FAMILY,
        postgresql_where=FAMILY,
    )
    op.create_index(
        "ix_messages_deleted",
        "messages",
        ["chatId", "seq"],
        sqlite_where=DELETED,
        postgresql_where=DELETED,
    )


def downgrade() -> None:
    op.drop_index("ix_messages_deleted", table_name="messages")
    op.drop_index("uq_chats_family", table_name="chats")
    op.drop_table("server_state")
