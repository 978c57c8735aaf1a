"""Schema migrations: fresh databases, downgrade, and adopting a database made by the seed."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import bcrypt
import httpx
import jwt
import pytest
from sqlalchemy import create_engine, inspect, text

from inner_circle.sdk import InnerCircleClient
from inner_circle.server.db import migrate
from tests.support import (
    POSTGRES,
    ThreadedServer,
    in_thread,
    make_settings,
    need_service,
    run_async,
)

# The seed's schema, verbatim from its technology_stack.md (PostgreSQL).
SEED_SQL = """
CREATE EXTENSION IF NOT EXISTS "uuid-ossp";
CREATE TABLE users (
    id UUID PRIMARY KEY DEFAULT uuid_generate_v4(),
    username VARCHAR UNIQUE NOT NULL,
    "passwordHash" VARCHAR NOT NULL,
    "isAdmin" BOOLEAN DEFAULT false,
    "invitationCode" VARCHAR,
    "createdAt" TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX idx_users_username ON users(username);
CREATE INDEX idx_users_invitation_code ON users("invitationCode");
CREATE TABLE invitation_codes (
    id UUID PRIMARY KEY DEFAULT uuid_generate_v4(),
    code VARCHAR UNIQUE NOT NULL,
    "isUsed" BOOLEAN DEFAULT false,
    "usedByUserId" UUID REFERENCES users(id),
    "usedAt" TIMESTAMP,
    "createdAt" TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX idx_invitation_codes_code ON invitation_codes(code);
CREATE INDEX idx_invitation_codes_used ON invitation_codes("isUsed");
CREATE TABLE chats (
    id UUID PRIMARY KEY DEFAULT uuid_generate_v4(),
    name VARCHAR NOT NULL,
    "createdAt" TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP DEFAULT CURRENT_TIMESTAMP
);
CREATE TABLE messages (
    id UUID PRIMARY KEY DEFAULT uuid_generate_v4(),
    content TEXT NOT NULL,
    "senderId" UUID NOT NULL REFERENCES users(id),
    "chatId" UUID NOT NULL REFERENCES chats(id),
    "createdAt" TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX idx_messages_chat_created ON messages("chatId", "createdAt");
CREATE INDEX idx_messages_sender ON messages("senderId");
CREATE TABLE chat_participants (
    "chatId" UUID REFERENCES chats(id) ON DELETE CASCADE,
    "userId" UUID REFERENCES users(id) ON DELETE CASCADE,
    PRIMARY KEY ("chatId", "userId")
);
"""

SEED_TABLES = {"users", "invitation_codes", "chats", "messages", "chat_participants"}


def _bcryptjs_hash(password: str) -> str:
    """What the seed's bcryptjs stored: $2a$, 10 rounds."""
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(10, prefix=b"2a")).decode()


@pytest.fixture
def seed_database() -> Iterator[tuple[str, dict[str, uuid.UUID]]]:
    if not POSTGRES.reachable():
        need_service("PostgreSQL is not reachable")
    name = POSTGRES.create_database("ic_seed").rpartition("/")[2]
    ids = {
        key: uuid.uuid4()
        for key in ("gran", "dad", "kid", "family", "pair", "unused", "gran_ru", "gran_ru2")
    }
    base = datetime(2025, 8, 20, 10, 0, 0)  # noqa: DTZ001 - the seed stored naive timestamps

    async def fill() -> None:
        connection = await asyncpg.connect(POSTGRES.url(name).replace("+asyncpg", ""))
        try:
            await connection.execute(SEED_SQL)
            for key, is_admin in (("gran", True), ("dad", False), ("kid", False)):
                await connection.execute(
                    'INSERT INTO users (id, username, "passwordHash", "isAdmin", "invitationCode") '
                    "VALUES ($1, $2, $3, $4, 'SEED-CODE')",
                    ids[key],
                    key,
                    _bcryptjs_hash(f"{key}-old-pass"),
                    is_admin,
                )
            # The seed compared names byte for byte: two members may differ only in case.
            for key, spelled, minutes in (("gran_ru", "Бабушка", 0), ("gran_ru2", "бабушка", 5)):
                await connection.execute(
                    'INSERT INTO users (id, username, "passwordHash", "createdAt") '
                    "VALUES ($1, $2, $3, $4)",
                    ids[key],
                    spelled,
                    _bcryptjs_hash(f"{key}-pass"),
                    base + timedelta(minutes=minutes),
                )
            await connection.execute(
                'INSERT INTO invitation_codes (code, "isUsed", "usedByUserId") VALUES (\'OLDCODE1\', true, $1)',
                ids["dad"],
            )
            await connection.execute(
                "INSERT INTO invitation_codes (id, code) VALUES ($1, 'FAMILY2025')", ids["unused"]
            )
            await connection.execute(
                "INSERT INTO chats (id, name, \"createdAt\") VALUES ($1, 'Семья', $2), ($3, 'dad-kid', $4)",
                ids["family"],
                base,
                ids["pair"],
                base + timedelta(minutes=1),
            )
            for user in ("gran", "dad", "kid", "gran_ru", "gran_ru2"):
                await connection.execute(
                    'INSERT INTO chat_participants ("chatId", "userId") VALUES ($1, $2)',
                    ids["family"],
                    ids[user],
                )
            for user in ("dad", "kid"):
                await connection.execute(
                    'INSERT INTO chat_participants ("chatId", "userId") VALUES ($1, $2)',
                    ids["pair"],
                    ids[user],
                )
            for i in range(5):
                await connection.execute(
                    'INSERT INTO messages (content, "senderId", "chatId", "createdAt") VALUES ($1, $2, $3, $4)',
                    f"family message {i}",
                    ids["gran" if i % 2 else "dad"],
                    ids["family"],
                    base
                    + timedelta(minutes=10 - i),  # inserted newest first: order by time, not rowid
                )
            await connection.execute(
                'INSERT INTO messages (content, "senderId", "chatId") VALUES (\'hi kid\', $1, $2)',
                ids["dad"],
                ids["pair"],
            )
        finally:
            await connection.close()

    run_async(fill())
    yield name, ids
    POSTGRES.drop_database(name)


async def test_seed_database_is_adopted_in_place(
    seed_database: tuple[str, dict[str, uuid.UUID]], tmp_path: Path
) -> None:
    name, ids = seed_database
    # `inner-circle migrate` configured the seed's way, with DATABASE_* variables
    env = {k: v for k, v in os.environ.items() if not k.startswith("INNER_CIRCLE_")}
    env.update(
        DATABASE_HOST="127.0.0.1",
        DATABASE_PORT="5432",
        DATABASE_USER="postgres",
        DATABASE_NAME=name,
        JWT_SECRET="a-long-production-secret-of-more-than-32-characters",
    )
    result = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "inner_circle.cli.main", "migrate", "--data-dir", str(tmp_path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr

    server = ThreadedServer(make_settings(POSTGRES.url(name), tmp_path))
    await server.start()
    try:
        async with InnerCircleClient(server.url) as dad:
            await dad.login("dad", "dad-old-pass")
            chats = {chat.id: chat for chat in await dad.chats()}
            assert chats[ids["family"]].type == "family"
            assert chats[ids["family"]].name == "Семья"
            assert chats[ids["pair"]].type == "private"
            assert chats[ids["pair"]].unread_count == 0  # seed history counts as read
            history = await dad.history(ids["family"])
            assert [m.content for m in history] == [f"family message {i}" for i in (4, 3, 2, 1, 0)]
            assert [m.seq for m in history] == [1, 2, 3, 4, 5]
            again = await dad.private_chat(ids["kid"])
            assert again.id == ids["pair"]  # the seed's two-person chat is their private chat
            sent = await dad.post_message(ids["family"], "after the upgrade")
            assert sent.seq == 6
        async with InnerCircleClient(server.url) as newcomer:
            user = await newcomer.register("cousin", "cousin-pass", "FAMILY2025")
            assert user.is_admin is False
            await newcomer.login("cousin", "cousin-pass")
            assert ids["family"] in {c.id for c in await newcomer.chats()}
        async with InnerCircleClient(server.url) as gran:
            login = await gran.login("gran", "gran-old-pass")
            assert login.user.is_admin
            assert {i.code for i in await gran.invites()} == {"OLDCODE1", "FAMILY2025"}
        async with InnerCircleClient(server.url) as grandma:
            # names now fold: the older of the two keeps every case of it...
            assert (await grandma.login("БАБУШКА", "gran_ru-pass")).user.id == ids["gran_ru"]
            # ...and the newer still signs in by its exact spelling
            assert (await grandma.login("бабушка", "gran_ru2-pass")).user.id == ids["gran_ru2"]
        async with httpx.AsyncClient(base_url=server.url) as http:
            # a refresh token the seed issued before the upgrade ({username, sub}, even signed
            # with the same secret): a clean 401, and the app shows its login screen
            now = int(datetime.now(UTC).timestamp())
            seed_token = jwt.encode(
                {"username": "dad", "sub": str(ids["dad"]), "iat": now, "exp": now + 86400},
                server.settings.secret_key(),
                algorithm="HS256",
            )
            refused = await http.post("/auth/refresh", json={"refresh_token": seed_token})
            assert refused.status_code == 401
            assert refused.json()["code"] == "TOKEN_INVALID"
    finally:
        await server.stop()

    async def stored_hash() -> str:
        connection = await asyncpg.connect(POSTGRES.url(name).replace("+asyncpg", ""))
        try:
            return str(
                await connection.fetchval(
                    "SELECT \"passwordHash\" FROM users WHERE username = 'dad'"
                )
            )
        finally:
            await connection.close()

    assert (await stored_hash()).startswith("$argon2id$")  # re-hashed at the first login


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_upgrade_downgrade_upgrade(backend: str, tmp_path: Path) -> None:
    cleanup = None
    if backend == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'm.db'}"
    else:
        if not POSTGRES.reachable():
            need_service("PostgreSQL is not reachable")
        url = cleanup = POSTGRES.create_database("ic_mig")
    try:
        in_thread(migrate.upgrade, url)
        if backend == "sqlite":
            engine = create_engine(f"sqlite:///{tmp_path / 'm.db'}")
            with engine.connect() as connection:
                tables = set(inspect(connection).get_table_names())
                assert SEED_TABLES | {"refresh_tokens", "alembic_version"} <= tables
                version = connection.execute(text("SELECT version_num FROM alembic_version"))
                assert version.scalar() == migrate.head_revision()
            engine.dispose()
        else:
            assert _search_index_options(url) == ["fastupdate=off"]
        in_thread(migrate.downgrade, url, "base")
        in_thread(migrate.upgrade, url)
    finally:
        if cleanup:
            POSTGRES.drop_database(cleanup)


def _search_index_options(url: str) -> list[str]:
    """The storage options of PostgreSQL's search index (migration 0013: no pending list,
    so no send pays for merging it)."""

    async def read() -> list[str]:
        connection = await asyncpg.connect(url.replace("+asyncpg", ""))
        try:
            options = await connection.fetchval(
                "SELECT reloptions FROM pg_class WHERE relname = 'ix_message_search_tsv'"
            )
        finally:
            await connection.close()
        return list(options or [])

    return asyncio.run(read())
