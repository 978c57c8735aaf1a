"""Full-text search over messages (ADR 0015).

- ``message_search``: one row per message that can be found, holding its stemmed words
  (``core.search_terms.terms``); the id orders results newest first.
- SQLite: the FTS5 table ``message_search_fts`` indexes ``terms`` (external content,
  kept in step by triggers, so it changes in the same transaction as the row).
- PostgreSQL: the generated column ``tsv`` (``to_tsvector('simple', terms)``) and a GIN
  index over it.

Existing messages are indexed here, oldest first, so their ids keep time order.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-26
"""

import sqlite3

import sqlalchemy as sa
from alembic import op

from inner_circle.core.search_terms import terms

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

BATCH = 2000

SQLITE_FTS = [
    """CREATE VIRTUAL TABLE message_search_fts USING fts5(
        terms, content='message_search', content_rowid='id',
        tokenize='unicode61 remove_diacritics 2')""",
    """CREATE TRIGGER message_search_ai AFTER INSERT ON message_search BEGIN
        INSERT INTO message_search_fts(rowid, terms) VALUES (new.id, new.terms);
    END""",
    """CREATE TRIGGER message_search_ad AFTER DELETE ON message_search BEGIN
        INSERT INTO message_search_fts(message_search_fts, rowid, terms)
        VALUES ('delete', old.id, old.terms);
    END""",
    """CREATE TRIGGER message_search_au AFTER UPDATE OF terms ON message_search BEGIN
        INSERT INTO message_search_fts(message_search_fts, rowid, terms)
        VALUES ('delete', old.id, old.terms);
        INSERT INTO message_search_fts(rowid, terms) VALUES (new.id, new.terms);
    END""",
]


def upgrade() -> None:
    op.create_table(
        "message_search",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            sa.Identity(),
            primary_key=True,
        ),
        sa.Column(
            "messageId",
            sa.Uuid(),
            sa.ForeignKey("messages.id", ondelete="CASCADE"),
            nullable=False,
            unique=True,
        ),
        sa.Column("chatId", sa.Uuid(), nullable=False),
        sa.Column("senderId", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("terms", sa.Text(), nullable=False),
    )
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for statement in SQLITE_FTS:
            op.execute(statement)
        if sqlite3.sqlite_version_info >= (3, 42):
            # Deleted words leave the index pages at once, not at the next merge of them.
            op.execute(
                "INSERT INTO message_search_fts(message_search_fts, rank) VALUES ('secure-delete', 1)"
            )
    else:
        op.execute(
            "ALTER TABLE message_search ADD COLUMN tsv tsvector "
            "GENERATED ALWAYS AS (to_tsvector('simple', terms)) STORED"
        )
        op.execute("CREATE INDEX ix_message_search_tsv ON message_search USING gin (tsv)")
    _index_existing(bind)


def _index_existing(bind: sa.engine.Connection) -> None:
    messages = sa.table(
        "messages",
        sa.column("id", sa.Uuid()),
        sa.column("chatId", sa.Uuid()),
        sa.column("senderId", sa.Uuid()),
        sa.column("seq", sa.Integer()),
        sa.column("content", sa.Text()),
        sa.column("createdAt", sa.DateTime()),
        sa.column("deletedAt", sa.DateTime()),
    )
    search = sa.table(
        "message_search",
        sa.column("messageId", sa.Uuid()),
        sa.column("chatId", sa.Uuid()),
        sa.column("senderId", sa.Uuid()),
        sa.column("seq", sa.Integer()),
        sa.column("terms", sa.Text()),
    )
    rows = bind.execute(
        sa.select(messages.c.id, messages.c.chatId, messages.c.senderId, messages.c.seq,
                  messages.c.content)
        .where(messages.c.deletedAt.is_(None))
        .order_by(messages.c.createdAt, messages.c.seq)
    )  # fmt: skip
    while batch := rows.fetchmany(BATCH):
        found = [
            {"messageId": m, "chatId": c, "senderId": s, "seq": q, "terms": terms(text)}
            for m, c, s, q, text in batch
        ]
        found = [row for row in found if row["terms"]]
        if found:
            bind.execute(search.insert(), found)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in ("message_search_au", "message_search_ad", "message_search_ai"):
            op.execute(f"DROP TRIGGER {name}")
        op.execute("DROP TABLE message_search_fts")
    op.drop_table("message_search")
