"""User queries. Never commits."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from inner_circle.core import usernames
from inner_circle.server.db.models import User
from inner_circle.server.repositories.inserts import insert_object

__all__ = [
    "active_ids",
    "by_id",
    "by_ids",
    "by_username",
    "count",
    "insert_unless_taken",
    "list_all",
    "names",
]


async def insert_unless_taken(session: AsyncSession, draft: User) -> User | None:
    """Store a new member; None when the username, in any case or alphabet, is already
    taken (by a concurrent registration too: the unique keys decide)."""
    return await insert_object(session, draft)


async def by_id(session: AsyncSession, user_id: uuid.UUID) -> User | None:
    return await session.get(User, user_id)


async def by_username(session: AsyncSession, username: str) -> User | None:
    """Usernames are unique case-insensitively in any alphabet: 'Anna' and 'anna', 'Бабушка'
    and 'бабушка' are one member (``core.usernames.fold``). A seed-era name left without a
    folded form (its fold collided with an older name) matches by its exact spelling, and
    that spelling wins over the older name's other cases."""
    spelled = usernames.normalize(username)
    result = await session.execute(
        select(User)
        .where(
            or_(
                User.username_folded == usernames.fold(username),
                and_(User.username == spelled, User.username_folded.is_(None)),
            )
        )
        .limit(2)
    )
    found = list(result.scalars())
    exact = next((user for user in found if user.username_folded is None), None)
    return exact or (found[0] if found else None)


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
