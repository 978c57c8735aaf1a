"""PostgreSQL: the search index takes each message's words as it is sent.

A GIN index with ``fastupdate`` (PostgreSQL's default) queues new entries in a pending list
and merges them into the index when the list passes ``gin_pending_list_limit`` (4 MB), in
the transaction of the insert that passes it. Every message writes its words to
``message_search``, so one send in so many paid for the merge: in a 10-minute run at
450 messages a second, one transaction about every 50 seconds, its ``INSERT INTO
message_search`` taking 137-261 ms (PostgreSQL's own statement log), the tail of message
latency; for a family writing a few messages an hour, one message a week or so waits for
hours' worth of entries. Without the pending list each insert updates the index itself:
a little more work per message, none stored up (docs/performance.md, tenth session).
SQLite's FTS5 merges its segments a little at a time and is left as it is.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-28
"""

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        # Entries already pending stay searchable (scans read the list) until a vacuum
        # moves them into the index.
        op.execute("ALTER INDEX ix_message_search_tsv SET (fastupdate = off)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER INDEX ix_message_search_tsv RESET (fastupdate)")
