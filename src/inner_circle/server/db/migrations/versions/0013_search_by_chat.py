"""Search inside one chat on PostgreSQL: one GIN index over (chatId, tsv).

With the words alone in the index, a search inside one chat took the GIN bitmap of a word
from every chat and filtered it by chat in the heap: for a word of medium frequency in a
family chat of a million messages, 2,800 heap pages and 13–25 ms (docs/performance.md,
"Search"). ``btree_gin`` lets one GIN index hold the chat beside the words, so the index
intersects both and the heap sees only the chat's matches (400 pages, about 1.5 ms).
It replaces the words-only index: a multicolumn GIN index serves queries on any subset
of its columns, and one index costs a write less than two.

``btree_gin`` ships with PostgreSQL and is a trusted extension (PostgreSQL 13+): the
database's owner may create it. Where it cannot be created, the words-only index stays
and search works as before, only slower inside one chat.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-27
"""

import logging

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

log = logging.getLogger(__name__)


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return  # SQLite's FTS5 index already answers per chat from its own rows
    try:
        with bind.begin_nested():
            bind.execute(sa.text("CREATE EXTENSION IF NOT EXISTS btree_gin"))
    except sa.exc.DBAPIError as exc:
        log.warning("btree_gin not available (%s); search keeps the words-only index", exc)
        return
    op.execute(
        'CREATE INDEX ix_message_search_chat_tsv ON message_search USING gin ("chatId", tsv)'
    )
    op.execute("DROP INDEX ix_message_search_tsv")


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    op.execute("CREATE INDEX IF NOT EXISTS ix_message_search_tsv ON message_search USING gin (tsv)")
    op.execute("DROP INDEX IF EXISTS ix_message_search_chat_tsv")
