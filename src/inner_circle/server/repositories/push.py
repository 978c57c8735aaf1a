"""Push subscription, mute and preference queries. Never commits."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from inner_circle.server.db.driver_sql import DriverSQL, as_uuid
from inner_circle.server.db.models import Chat, ChatMute, FcmToken, PushPreference, PushSubscription

__all__ = [
    "chat_type",
    "delete_fcm_token",
    "delete_subscription",
    "device_holders",
    "fcm_tokens_of",
    "hidden_text_users",
    "muted_users",
    "mutes_of",
    "save_subscription",
    "set_mute",
    "set_show_text",
    "show_text",
    "subscriptions_of",
    "unsubscribe",
]


async def save_subscription(
    session: AsyncSession,
    user_id: uuid.UUID,
    session_id: uuid.UUID,
    endpoint: str,
    p256dh: str,
    auth: str,
    expires_at: datetime | None,
    now: datetime,
    keep: int,
) -> PushSubscription:
    """Store (or take over) the subscription at ``endpoint``; the member keeps at most
    ``keep`` subscriptions (the oldest go)."""
    row = (
        await session.execute(
            select(PushSubscription).where(PushSubscription.endpoint == endpoint).with_for_update()
        )
    ).scalar_one_or_none()
    if row is None:
        row = PushSubscription(endpoint=endpoint, created_at=now)
        session.add(row)
    row.user_id = user_id
    row.session_id = session_id
    row.p256dh = p256dh
    row.auth = auth
    row.expires_at = expires_at
    row.updated_at = now
    await session.flush()
    ids = (
        await session.execute(
            select(PushSubscription.id)
            .where(PushSubscription.user_id == user_id)
            .order_by(PushSubscription.updated_at.desc(), PushSubscription.id)
            .offset(keep)
        )
    ).scalars()
    stale = list(ids)
    if stale:
        await session.execute(delete(PushSubscription).where(PushSubscription.id.in_(stale)))
    return row


async def unsubscribe(session: AsyncSession, user_id: uuid.UUID, endpoint: str | None) -> int:
    """Forget the member's subscription at ``endpoint`` (None: all of this member's)."""
    query = delete(PushSubscription).where(PushSubscription.user_id == user_id)
    if endpoint is not None:
        query = query.where(PushSubscription.endpoint == endpoint)
    result = await session.execute(query)
    return int(getattr(result, "rowcount", 0) or 0)


async def delete_subscription(session: AsyncSession, subscription_id: uuid.UUID) -> None:
    await session.execute(delete(PushSubscription).where(PushSubscription.id == subscription_id))


async def delete_fcm_token(session: AsyncSession, token_id: uuid.UUID) -> None:
    await session.execute(delete(FcmToken).where(FcmToken.id == token_id))


async def subscriptions_of(
    session: AsyncSession, user_ids: Iterable[uuid.UUID]
) -> list[PushSubscription]:
    ids = set(user_ids)
    if not ids:
        return []
    result = await session.execute(
        select(PushSubscription).where(PushSubscription.user_id.in_(ids))
    )
    return list(result.scalars())


async def fcm_tokens_of(session: AsyncSession, user_ids: Iterable[uuid.UUID]) -> list[FcmToken]:
    ids = set(user_ids)
    if not ids:
        return []
    result = await session.execute(select(FcmToken).where(FcmToken.user_id.in_(ids)))
    return list(result.scalars())


def holds_a_device(user_id: str) -> str:
    """SQL that is true when the member ``user_id`` (a column or placeholder) has a Web
    Push subscription or an FCM token: two lookups by index. What ``device_holders`` asks
    of many members, for a statement that reads members anyway (``chats.audiences_by_chat``)."""
    return (
        f'EXISTS (SELECT 1 FROM push_subscriptions s WHERE s."userId" = {user_id})'
        f' OR EXISTS (SELECT 1 FROM fcm_tokens f WHERE f."userId" = {user_id})'
    )


# Asked for the messages whose send did not read it with the chat's members:
# straight on the driver (ADR 5).
_DEVICE_HOLDERS = DriverSQL(
    'SELECT "userId" FROM push_subscriptions WHERE "userId" = ANY(:ids)'
    ' UNION SELECT "userId" FROM fcm_tokens WHERE "userId" = ANY(:ids)'
)


async def device_holders(session: AsyncSession, user_ids: Iterable[uuid.UUID]) -> set[uuid.UUID]:
    """Which of ``user_ids`` have a Web Push subscription or an FCM token (one query)."""
    ids = list(set(user_ids))
    if not ids:
        return set()
    result = await _DEVICE_HOLDERS.run(session, {"ids": ids})
    return {as_uuid(user_id) for (user_id,) in result.all()}


async def muted_users(
    session: AsyncSession, chat_id: uuid.UUID, user_ids: Iterable[uuid.UUID], now: datetime
) -> set[uuid.UUID]:
    """The members among ``user_ids`` who have ``chat_id`` muted at ``now``."""
    ids = set(user_ids)
    if not ids:
        return set()
    result = await session.execute(
        select(ChatMute.user_id).where(
            ChatMute.chat_id == chat_id,
            ChatMute.user_id.in_(ids),
            or_(ChatMute.until.is_(None), ChatMute.until > now),
        )
    )
    return set(result.scalars())


async def hidden_text_users(session: AsyncSession, user_ids: Iterable[uuid.UUID]) -> set[uuid.UUID]:
    """The members among ``user_ids`` who turned message text in notifications off."""
    ids = set(user_ids)
    if not ids:
        return set()
    result = await session.execute(
        select(PushPreference.user_id).where(
            PushPreference.user_id.in_(ids), PushPreference.show_text.is_(False)
        )
    )
    return set(result.scalars())


async def show_text(session: AsyncSession, user_id: uuid.UUID) -> bool:
    row = await session.get(PushPreference, user_id)
    return True if row is None else row.show_text


async def set_show_text(session: AsyncSession, user_id: uuid.UUID, value: bool) -> None:
    row = await session.get(PushPreference, user_id, with_for_update=True)
    if row is None:
        session.add(PushPreference(user_id=user_id, show_text=value))
    else:
        row.show_text = value
    await session.flush()


async def set_mute(
    session: AsyncSession,
    chat_id: uuid.UUID,
    user_id: uuid.UUID,
    muted: bool,
    until: datetime | None,
) -> None:
    await session.execute(
        delete(ChatMute).where(ChatMute.chat_id == chat_id, ChatMute.user_id == user_id)
    )
    if muted:
        session.add(ChatMute(chat_id=chat_id, user_id=user_id, until=until))
    await session.flush()


async def mutes_of(session: AsyncSession, user_id: uuid.UUID, now: datetime) -> list[ChatMute]:
    result = await session.execute(
        select(ChatMute).where(
            ChatMute.user_id == user_id, or_(ChatMute.until.is_(None), ChatMute.until > now)
        )
    )
    return list(result.scalars())


async def chat_type(session: AsyncSession, chat_id: uuid.UUID) -> str | None:
    """``private``, ``group`` (or the family chat's type); None when the chat is gone."""
    return (await session.execute(select(Chat.type).where(Chat.id == chat_id))).scalar()
