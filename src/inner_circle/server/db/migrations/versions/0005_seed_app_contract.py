"""What the seed's Flutter app needs: usernames unique in any alphabet and case, private
chats a member deleted from their list, and FCM device tokens per session.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26
"""

import logging
import unicodedata

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")


def _fold(name: str) -> str:
    # Frozen copy of core.usernames.fold at this revision.
    value = unicodedata.normalize("NFKC", name).strip()
    return unicodedata.normalize("NFKC", value.casefold())


def upgrade() -> None:
    bind = op.get_bind()
    # No batch mode on users: SQLite's batch cannot reflect the lower(username) index
    # (0002). A nullable column is added in place on both databases.
    op.add_column("users", sa.Column("usernameFolded", sa.String(), nullable=True))
    users = sa.table(
        "users",
        sa.column("id", sa.Uuid()),
        sa.column("username", sa.String()),
        sa.column("usernameFolded", sa.String()),
    )
    rows = bind.execute(
        sa.select(users.c.id, users.c.username).order_by(sa.text('"createdAt"'), users.c.id)
    ).all()
    taken: set[str] = set()
    for user_id, username in rows:
        folded = _fold(username)
        if folded in taken:
            # A seed database may hold 'Бабушка' and 'бабушка' as two members (the seed
            # compared bytes). The older keeps the name; the newer signs in by its exact
            # spelling and cannot be matched by another case.
            log.warning("username %r folds like an older one; left without a folded form", username)
            continue
        taken.add(folded)
        bind.execute(sa.update(users).where(users.c.id == user_id).values(usernameFolded=folded))
    op.create_index("ix_users_username_folded", "users", ["usernameFolded"], unique=True)
    # The folded form supersedes 0002's lower(username) index (ASCII-only on SQLite, absent
    # when a seed database held names differing only in case).
    op.execute("DROP INDEX IF EXISTS ix_users_username_lower")

    op.add_column("chat_participants", sa.Column("hiddenAt", sa.DateTime(), nullable=True))

    op.create_table(
        "fcm_tokens",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column(
            "userId", sa.Uuid(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("sessionId", sa.Uuid(), nullable=False, unique=True),
        sa.Column("token", sa.String(), nullable=False),
        sa.Column("createdAt", sa.DateTime(), nullable=False),
        sa.Column("updatedAt", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_fcm_tokens_userId", "fcm_tokens", ["userId"])


def downgrade() -> None:
    op.drop_index("ix_fcm_tokens_userId", table_name="fcm_tokens")
    op.drop_table("fcm_tokens")
    op.execute('ALTER TABLE chat_participants DROP COLUMN "hiddenAt"')
    op.drop_index("ix_users_username_folded", table_name="users")
    op.execute('ALTER TABLE users DROP COLUMN "usernameFolded"')
    bind = op.get_bind()
    collisions = bind.execute(
        sa.text("SELECT lower(username) FROM users GROUP BY lower(username) HAVING COUNT(*) > 1")
    ).first()
    if collisions is None:
        op.create_index(
            "ix_users_username_lower", "users", [sa.text("lower(username)")], unique=True
        )
