"""User queries. Never commits."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from inner_circle.core import usernames
from inner_circle.server.db.driver_sql import DriverSQL, as_time, as_uuid
from inner_circle.server.db.models import User
from inner_circle.server.repositories.inserts import insert_object

__all__ = [
    "Credentials",
    "MemberRow",
    "active_ids",
    "by_id",
    "by_ids",
    "by_username",
    "count",
    "credentials",
    "insert_unless_taken",
    "list_all",
    "member_row",
    "names",
    "set_password_hash",
]


async def insert_unless_taken(session: AsyncSession, draft: User) -> User | None:
    """Store a new member; None when the username, in any case or alphabet, is already
    taken (by a concurrent registration too: the unique keys decide)."""
    return await insert_object(session, draft)


async def by_id(session: AsyncSession, user_id: uuid.UUID) -> User | None:
    return await session.get(User, user_id)


class Credentials(NamedTuple):
    id: uuid.UUID
    password_hash: str


async def credentials(session: AsyncSession, username: str) -> Credentials | None:
    """The member a username names, with their password hash.

    Usernames are unique case-insensitively in any alphabet: 'Anna' and 'anna', 'Бабушка'
    and 'бабушка' are one member (``core.usernames.fold``). A seed-era name left without a
    folded form (its fold collided with an older name) matches by its exact spelling, and
    that spelling wins over the older name's other cases. Straight to the driver
    (``db/driver_sql.py``): every login asks."""
    values = {"folded": usernames.fold(username), "spelled": usernames.normalize(username)}
    rows = (await _CREDENTIALS.run(session, values)).all()
    exact = next((row for row in rows if row[2]), None)
    found = exact or (rows[0] if rows else None)
    return Credentials(as_uuid(found[0]), found[1]) if found else None


_CREDENTIALS = DriverSQL(
    'SELECT id, "passwordHash", "usernameFolded" IS NULL FROM users'
    ' WHERE "usernameFolded" = :folded OR (username = :spelled AND "usernameFolded" IS NULL)'
    " LIMIT 2"
)


async def by_username(session: AsyncSession, username: str) -> User | None:
    """The member a username names (:func:`credentials` has the rule)."""
    found = await credentials(session, username)
    return await by_id(session, found.id) if found else None


class MemberRow(NamedTuple):
    """A member's row as plain values: what signing in reads and answers with."""

    id: uuid.UUID
    username: str
    display_name: str | None
    password_hash: str
    is_admin: bool
    is_active: bool
    token_version: int
    last_seen_at: datetime | None
    created_at: datetime
    updated_at: datetime | None

    @property
    def shown_name(self) -> str:
        return usernames.shown_name(self.username, self.display_name)


async def member_row(session: AsyncSession, user_id: uuid.UUID) -> MemberRow | None:
    """A member as plain values, straight from the driver (logins and refreshes: no ORM
    object is built or tracked)."""
    row = (await _MEMBER_ROW.run(session, {"id": user_id})).first()
    if row is None:
        return None
    user_id, name, shown, hashed, admin, active, version, seen, created, updated = row
    return MemberRow(
        as_uuid(user_id),
        name,
        shown,
        hashed,
        bool(admin),
        bool(active),
        int(version),
        as_time(seen) if seen is not None else None,
        as_time(created),
        as_time(updated) if updated is not None else None,
    )


_MEMBER_ROW = DriverSQL(
    'SELECT id, username, "displayName", "passwordHash", "isAdmin", "isActive",'
    ' "tokenVersion", "lastSeenAt", "createdAt", "updatedAt" FROM users WHERE id = :id'
)


async def set_password_hash(session: AsyncSession, user_id: uuid.UUID, password_hash: str) -> None:
    """Replace the stored hash with a stronger one of the same password (a seed-era bcrypt
    hash on the member's first login): sessions and tokens stay as they are."""
    await _SET_PASSWORD_HASH.run(session, {"id": user_id, "hash": password_hash})


_SET_PASSWORD_HASH = DriverSQL('UPDATE users SET "passwordHash" = :hash WHERE id = :id')


async def by_ids(session: AsyncSession, user_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, User]:
    ids = set(user_ids)
    if not ids:
        return {}
    result = await session.execute(select(User).where(User.id.in_(ids)))
    return {user.id: user for user in result.scalars()}


async def list_all(session: AsyncSession, *, include_inactive: bool = True) -> Sequence[User]:
    query = select(User).order_by(User.created_at, User.username)
    if not include_inactive:
        query = query.where(User.is_active.is_(True))
    return (await session.execute(query)).scalars().all()


async def names(session: AsyncSession) -> list[tuple[uuid.UUID, str, str | None]]:
    """Every member's (id, username, display name), active or not, as plain rows."""
    result = await session.execute(select(User.id, User.username, User.display_name))
    return [(user_id, username, display) for user_id, username, display in result.all()]


async def active_ids(session: AsyncSession) -> list[uuid.UUID]:
    result = await session.execute(select(User.id).where(User.is_active.is_(True)))
    return list(result.scalars())


async def count(session: AsyncSession) -> int:
    return int((await session.execute(select(func.count()).select_from(User))).scalar_one())
