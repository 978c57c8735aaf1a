"""Inner Circle's additions: sequence numbers, client ids, read state, invitations
with limits, sessions; and the backfill that adopts a seed database in place.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

import uuid
from collections import defaultdict

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("displayName", sa.String(), nullable=True))
        batch.add_column(
            sa.Column("isActive", sa.Boolean(), nullable=False, server_default=sa.true())
        )
        batch.add_column(sa.Column("lastSeenAt", sa.DateTime(), nullable=True))
        batch.add_column(
            sa.Column("tokenVersion", sa.Integer(), nullable=False, server_default="0")
        )

    with op.batch_alter_table("invitation_codes") as batch:
        batch.add_column(sa.Column("usageLimit", sa.Integer(), nullable=False, server_default="1"))
        batch.add_column(sa.Column("usedCount", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("expiresAt", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("revokedAt", sa.DateTime(), nullable=True))
        batch.add_column(
            sa.Column("grantsAdmin", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("createdById", sa.Uuid(), nullable=True))
        batch.create_foreign_key(
            "fk_invitation_codes_createdById_users", "users", ["createdById"], ["id"]
        )
    bind.execute(
        sa.text('UPDATE invitation_codes SET "usedCount" = 1 WHERE "isUsed" = :t'), {"t": True}
    )

    with op.batch_alter_table("chats") as batch:
        batch.add_column(sa.Column("type", sa.String(16), nullable=False, server_default="group"))
        batch.add_column(sa.Column("lastSeq", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("privateKey", sa.String(), nullable=True))
        batch.add_column(sa.Column("createdById", sa.Uuid(), nullable=True))
        batch.add_column(sa.Column("lastMessageAt", sa.DateTime(), nullable=True))
        batch.create_unique_constraint("uq_chats_privateKey", ["privateKey"])
        batch.create_foreign_key("fk_chats_createdById_users", "users", ["createdById"], ["id"])

    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("seq", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("clientMessageId", sa.String(64), nullable=True))
    _backfill_sequences(bind)
    with op.batch_alter_table("messages") as batch:
        batch.alter_column("seq", existing_type=sa.Integer(), nullable=False)
        batch.create_unique_constraint("uq_messages_chat_seq", ["chatId", "seq"])
        batch.create_unique_constraint(
            "uq_messages_sender_client_id", ["senderId", "clientMessageId"]
        )

    with op.batch_alter_table("chat_participants") as batch:
        batch.add_column(sa.Column("lastReadSeq", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(
            sa.Column("lastDeliveredSeq", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("joinedAt", sa.DateTime(), nullable=True))
    op.create_index("ix_chat_participants_userId", "chat_participants", ["userId"])
    # Seed history counts as read: nobody opens an upgraded server to a wall of badges.
    bind.execute(
        sa.text(
            'UPDATE chat_participants SET "lastReadSeq" = (SELECT "lastSeq" FROM chats '
            'WHERE chats.id = chat_participants."chatId"), "lastDeliveredSeq" = (SELECT "lastSeq" '
            'FROM chats WHERE chats.id = chat_participants."chatId")'
        )
    )
    _classify_seed_chats(bind)

    op.create_table(
        "refresh_tokens",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column(
            "userId", sa.Uuid(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("tokenHash", sa.String(64), nullable=False, unique=True),
        sa.Column("familyId", sa.Uuid(), nullable=False),
        sa.Column("createdAt", sa.DateTime(), nullable=False),
        sa.Column("expiresAt", sa.DateTime(), nullable=False),
        sa.Column("usedAt", sa.DateTime(), nullable=True),
        sa.Column("revokedAt", sa.DateTime(), nullable=True),
    )
    op.create_index("ix_refresh_tokens_userId", "refresh_tokens", ["userId"])
    op.create_index("ix_refresh_tokens_family", "refresh_tokens", ["familyId"])
    # Last: SQLite's batch mode cannot reflect expression indexes, so no batch may follow it.
    # A seed database may hold names that differ only in case ('Бабушка', 'бабушка': the
    # seed compared bytes); then the index cannot be built. 0005 replaces it anyway with
    # a unique folded form that leaves such a later name out.
    collisions = bind.execute(
        sa.text("SELECT lower(username) FROM users GROUP BY lower(username) HAVING COUNT(*) > 1")
    ).first()
    if collisions is None:
        op.create_index(
            "ix_users_username_lower", "users", [sa.text("lower(username)")], unique=True
        )


def _backfill_sequences(bind: sa.engine.Connection) -> None:
    """Number existing messages per chat in time order, and set each chat's counter."""
    bind.execute(
        sa.text(
            "UPDATE messages SET seq = (SELECT n FROM (SELECT id, ROW_NUMBER() OVER "
            '(PARTITION BY "chatId" ORDER BY "createdAt", id) AS n FROM messages) numbered '
            "WHERE numbered.id = messages.id)"
        )
    )
    bind.execute(
        sa.text(
            'UPDATE chats SET "lastSeq" = COALESCE((SELECT MAX(seq) FROM messages '
            'WHERE messages."chatId" = chats.id), 0), "lastMessageAt" = (SELECT MAX("createdAt") '
            'FROM messages WHERE messages."chatId" = chats.id)'
        )
    )


def _classify_seed_chats(bind: sa.engine.Connection) -> None:
    """The seed had no chat types: the oldest chat holding every member is the family chat;
    the oldest two-member chat of each pair becomes that pair's private chat."""
    chats = bind.execute(
        sa.text('SELECT id, "createdAt" FROM chats ORDER BY "createdAt", id')
    ).all()
    if not chats:
        return
    members: dict[object, set[object]] = defaultdict(set)
    for chat_id, user_id in bind.execute(
        sa.text('SELECT "chatId", "userId" FROM chat_participants')
    ):
        members[chat_id].add(user_id)
    user_count = bind.execute(sa.text("SELECT COUNT(*) FROM users")).scalar_one()
    family = next((cid for cid, _ in chats if user_count and len(members[cid]) == user_count), None)
    chat_ids = [cid for cid, _ in chats]
    if family is not None:
        bind.execute(sa.text("UPDATE chats SET type = 'family' WHERE id = :id"), {"id": family})
    taken: set[str] = set()
    for chat_id in chat_ids:
        pair = members[chat_id]
        if chat_id == family or len(pair) != 2:
            continue
        low, high = sorted(str(uuid.UUID(str(uid))) for uid in pair)
        key = f"{low}:{high}"
        if key in taken:
            continue
        taken.add(key)
        bind.execute(
            sa.text("UPDATE chats SET type = 'private', \"privateKey\" = :key WHERE id = :id"),
            {"key": key, "id": chat_id},
        )


def downgrade() -> None:
    op.drop_index("ix_users_username_lower", "users")  # first: batch mode cannot reflect it
    op.drop_table("refresh_tokens")
    op.drop_index("ix_chat_participants_userId", "chat_participants")
    with op.batch_alter_table("chat_participants") as batch:
        for column in ("joinedAt", "lastDeliveredSeq", "lastReadSeq"):
            batch.drop_column(column)
    with op.batch_alter_table("messages") as batch:
        batch.drop_constraint("uq_messages_sender_client_id", type_="unique")
        batch.drop_constraint("uq_messages_chat_seq", type_="unique")
        batch.drop_column("clientMessageId")
        batch.drop_column("seq")
    with op.batch_alter_table("chats") as batch:
        batch.drop_constraint("fk_chats_createdById_users", type_="foreignkey")
        batch.drop_constraint("uq_chats_privateKey", type_="unique")
        for column in ("lastMessageAt", "createdById", "privateKey", "lastSeq", "type"):
            batch.drop_column(column)
    with op.batch_alter_table("invitation_codes") as batch:
        batch.drop_constraint("fk_invitation_codes_createdById_users", type_="foreignkey")
        for column in (
            "createdById",
            "grantsAdmin",
            "revokedAt",
            "expiresAt",
            "usedCount",
            "usageLimit",
        ):
            batch.drop_column(column)
    with op.batch_alter_table("users") as batch:
        for column in ("tokenVersion", "lastSeenAt", "isActive", "displayName"):
            batch.drop_column(column)
