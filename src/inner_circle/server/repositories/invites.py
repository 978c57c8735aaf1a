"""Invitation code queries. Never commits."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from inner_circle.server.db.models import InvitationCode
from inner_circle.server.repositories.inserts import insert_object

__all__ = ["by_code_for_update", "by_id", "insert_unless_taken", "list_all"]


async def insert_unless_taken(
    session: AsyncSession, draft: InvitationCode
) -> InvitationCode | None:
    """Store a new code; None when the same code already exists (a collision)."""
    return await insert_object(session, draft, unique=(InvitationCode.code,))


async def by_code_for_update(session: AsyncSession, code: str) -> InvitationCode | None:
    """Lock the code's row (PostgreSQL) so two registrations cannot both take the last use."""
    result = await session.execute(
        select(InvitationCode).where(InvitationCode.code == code).with_for_update()
    )
    return result.scalar_one_or_none()


async def by_id(session: AsyncSession, invite_id: uuid.UUID) -> InvitationCode | None:
    return await session.get(InvitationCode, invite_id)


async def list_all(session: AsyncSession) -> Sequence[InvitationCode]:
    result = await session.execute(
        select(InvitationCode).order_by(InvitationCode.created_at.desc())
    )
    return result.scalars().all()
