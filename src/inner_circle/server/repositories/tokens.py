"""Refresh token queries. Never commits."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from inner_circle.server.db.driver_sql import DriverSQL, as_uuid, insert_sql
from inner_circle.server.db.models import FcmToken, PushSubscription, RefreshToken
from inner_circle.server.repositories.inserts import upsert

__all__ = [
    "GrantMember",
    "GrantState",
    "add_refresh_token",
    "by_hash",
    "grant_members",
    "grant_state",
    "live_sessions",
    "revoke_family",
    "revoke_user",
    "save_fcm_token",
    "session_active",
]


class GrantMember(NamedTuple):
    """What a member's grants depend on (``services/grants.py`` judges them)."""

    id: uuid.UUID
    username: str
    display_name: str | None
    is_admin: bool
    is_active: bool
    token_version: int


class GrantState(NamedTuple):
    """What one access token's grant depends on: its member and its sign-in session."""

    member: GrantMember
    session_live: bool


def _grant_member(
    user_id: Any, name: str, shown: str | None, admin: Any, active: Any, version: Any
) -> GrantMember:
    return GrantMember(as_uuid(user_id), name, shown, bool(admin), bool(active), int(version))


async def grant_state(
    session: AsyncSession, user_id: uuid.UUID, session_id: uuid.UUID | None, now: datetime
) -> GrantState | None:
    """The member and whether the sign-in session holds a live token, in one statement
    (every REST request asks: straight to the driver, ``db/driver_sql.py``); None for no
    such member."""
    values = {"user": user_id, "session": session_id, "now": now}
    row = (await _GRANT_STATE.run(session, values)).first()
    if row is None:
        return None
    *member, live = row
    return GrantState(_grant_member(*member), bool(live))


_MEMBER_COLUMNS = 'id, username, "displayName", "isAdmin", "isActive", "tokenVersion"'
_GRANT_STATE = DriverSQL(
    f"SELECT {_MEMBER_COLUMNS}, EXISTS ("
    'SELECT 1 FROM refresh_tokens WHERE "familyId" = :session AND "revokedAt" IS NULL '
    'AND "expiresAt" > :now) FROM users WHERE id = :user'
)


async def add_refresh_token(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    token_hash: str,
    family_id: uuid.UUID,
    created_at: datetime,
    expires_at: datetime,
) -> None:
    """Store a session's new refresh token (its hash). Straight to the driver: every login
    and refresh writes one."""
    values = {
        "id": uuid.uuid4(),
        "userId": user_id,
        "tokenHash": token_hash,
        "familyId": family_id,
        "createdAt": created_at,
        "expiresAt": expires_at,
        "usedAt": None,
        "revokedAt": None,
    }
    await _ADD_REFRESH_TOKEN.run(session, values)


_ADD_REFRESH_TOKEN = insert_sql(RefreshToken.__table__)


async def by_hash(session: AsyncSession, token_hash: str) -> RefreshToken | None:
    result = await session.execute(
        select(RefreshToken).where(RefreshToken.token_hash == token_hash).with_for_update()
    )
    return result.scalar_one_or_none()


async def session_active(session: AsyncSession, family_id: uuid.UUID) -> bool:
    """True while the session has a token that was not revoked (logout revokes them all)."""
    result = await session.execute(
        select(RefreshToken.id)
        .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
        .limit(1)
    )
    return result.first() is not None


async def live_sessions(
    session: AsyncSession, family_ids: Iterable[uuid.UUID], now: datetime
) -> set[uuid.UUID]:
    """The sessions among ``family_ids`` that still hold a token neither revoked nor expired.

    Straight to the driver: the socket sweep asks this for every connection of the
    process each second (``socket/granted.py``)."""
    ids = list(set(family_ids))
    if not ids:
        return set()
    rows = await _LIVE_SESSIONS.run(session, {"ids": ids, "now": now})
    return {as_uuid(family_id) for family_id in rows.scalars()}


_LIVE_SESSIONS = DriverSQL(
    'SELECT DISTINCT "familyId" FROM refresh_tokens WHERE "familyId" = ANY(:ids) '
    'AND "revokedAt" IS NULL AND "expiresAt" > :now'
)


async def grant_members(session: AsyncSession, user_ids: Iterable[uuid.UUID]) -> list[GrantMember]:
    """What the grants of these members depend on, as plain rows (no ORM objects: the
    socket sweep reads every connected member each second, ``socket/granted.py``)."""
    ids = list(set(user_ids))
    if not ids:
        return []
    rows = await _GRANT_MEMBERS.run(session, {"ids": ids})
    return [_grant_member(*row) for row in rows.all()]


_GRANT_MEMBERS = DriverSQL(f"SELECT {_MEMBER_COLUMNS} FROM users WHERE id = ANY(:ids)")


async def revoke_family(session: AsyncSession, family_id: uuid.UUID, now: datetime) -> None:
    """End a session: its refresh tokens stop working and its device's FCM token and Web
    Push subscriptions are forgotten."""
    await session.execute(delete(FcmToken).where(FcmToken.session_id == family_id))
    await session.execute(delete(PushSubscription).where(PushSubscription.session_id == family_id))
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )


async def revoke_user(session: AsyncSession, user_id: uuid.UUID, now: datetime) -> None:
    """End every session of a member (and forget their devices' push tokens and subscriptions)."""
    await session.execute(delete(FcmToken).where(FcmToken.user_id == user_id))
    await session.execute(delete(PushSubscription).where(PushSubscription.user_id == user_id))
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )


async def save_fcm_token(
    session: AsyncSession, user_id: uuid.UUID, session_id: uuid.UUID, token: str, now: datetime
) -> None:
    """Keep one FCM token per session: a new one replaces the old (one statement, so two
    registrations of one session at the same moment leave one row)."""
    await upsert(
        session,
        FcmToken,
        {
            "id": uuid.uuid4(),
            "user_id": user_id,
            "session_id": session_id,
            "token": token,
            "created_at": now,
            "updated_at": now,
        },
        unique=(FcmToken.session_id,),
        update=("token", "updated_at"),
    )
