"""Push notification use cases: subscriptions, mutes, the "show text" preference.

Who gets a push for a committed message is decided after the commit by
``server.push.dispatch``; these use cases only keep what it reads.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy.exc import IntegrityError

from inner_circle.core.actor import Actor
from inner_circle.core.errors import ValidationFailed
from inner_circle.protocol.push import (
    ChatMuteIn,
    ChatMuteOut,
    PushDeviceOut,
    PushPreferencesIn,
    PushPreferencesOut,
    PushSubscriptionIn,
)
from inner_circle.server.access import access_chat
from inner_circle.server.db.uow import UnitOfWork
from inner_circle.server.push.crypto import valid_keys
from inner_circle.server.push.endpoints import parse_endpoint
from inner_circle.server.repositories import push as push_repo

__all__ = [
    "get_preferences",
    "list_devices",
    "mute_chat",
    "set_preferences",
    "subscribe",
    "unsubscribe",
]

MUTE_SPANS = {"1h": timedelta(hours=1), "8h": timedelta(hours=8)}


def _session_of(actor: Actor) -> uuid.UUID:
    if actor.session_id is None:
        raise ValidationFailed("Sign in again to register this device for notifications")
    return actor.session_id


async def subscribe(uow: UnitOfWork, actor: Actor, body: PushSubscriptionIn) -> PushDeviceOut:
    """Bind the browser's push subscription to the actor's session (the newest of the same
    endpoint wins; a member keeps at most ``push_max_subscriptions_per_member``).

    The endpoint's form is checked here (https, a host, no credentials); where it points
    is checked before every send (server/push/endpoints.py), since DNS can change.

    Raises: ValidationFailed for a bad endpoint or keys, or a token without a session.
    """
    session_id = _session_of(actor)
    settings = uow.ctx.settings
    parse_endpoint(body.endpoint, allow_loopback=settings.push_allow_loopback)
    if not valid_keys(body.keys.p256dh, body.keys.auth):
        raise ValidationFailed(
            "keys: p256dh must be a P-256 public key and auth 16 bytes, base64url"
        )
    now = uow.ctx.clock.now()
    expires = (
        datetime.fromtimestamp(body.expiration_time / 1000, UTC)
        if body.expiration_time is not None
        else None
    )
    args = (
        actor.id,
        session_id,
        body.endpoint,
        body.keys.p256dh,
        body.keys.auth,
        expires,
        now,
        settings.push_max_subscriptions_per_member,
    )
    try:
        async with uow.session.begin_nested():
            row = await push_repo.save_subscription(uow.session, *args)
    except IntegrityError:  # the same endpoint registered at the same moment: update it
        row = await push_repo.save_subscription(uow.session, *args)
    return PushDeviceOut(
        id=row.id,
        kind="webpush",
        service=_origin(row.endpoint),
        this_device=True,
        created_at=row.created_at,
    )


async def unsubscribe(uow: UnitOfWork, actor: Actor, endpoint: str) -> None:
    """Forget the actor's subscription at ``endpoint`` (nothing happens if there is none)."""
    await push_repo.unsubscribe(uow.session, actor.id, endpoint)


async def list_devices(uow: UnitOfWork, actor: Actor) -> list[PushDeviceOut]:
    """The actor's subscribed devices (web and the seed's app), this session's marked."""
    subs = await push_repo.subscriptions_of(uow.session, [actor.id])
    tokens = await push_repo.fcm_tokens_of(uow.session, [actor.id])
    devices = [
        PushDeviceOut(
            id=s.id,
            kind="webpush",
            service=_origin(s.endpoint),
            this_device=s.session_id == actor.session_id,
            created_at=s.created_at,
        )
        for s in subs
    ]
    devices += [
        PushDeviceOut(
            id=t.id,
            kind="fcm",
            service="fcm",
            this_device=t.session_id == actor.session_id,
            created_at=t.created_at,
        )
        for t in tokens
    ]
    return sorted(devices, key=lambda d: d.created_at)


async def get_preferences(uow: UnitOfWork, actor: Actor) -> PushPreferencesOut:
    now = uow.ctx.clock.now()
    mutes = await push_repo.mutes_of(uow.session, actor.id, now)
    return PushPreferencesOut(
        show_text=await push_repo.show_text(uow.session, actor.id),
        mutes=[ChatMuteOut(chat_id=m.chat_id, muted=True, until=m.until) for m in mutes],
    )


async def set_preferences(
    uow: UnitOfWork, actor: Actor, body: PushPreferencesIn
) -> PushPreferencesOut:
    """Whether the actor's notifications show message text (off: "New message" only)."""
    await push_repo.set_show_text(uow.session, actor.id, body.show_text)
    return await get_preferences(uow, actor)


async def mute_chat(
    uow: UnitOfWork, actor: Actor, chat_id: uuid.UUID, body: ChatMuteIn
) -> ChatMuteOut:
    """Mute the chat for the actor (1 hour, 8 hours, for good) or unmute it.

    Raises: NotFound when the actor is not in the chat.
    """
    await access_chat(uow, actor, chat_id)
    if body.duration == "off":
        await push_repo.set_mute(uow.session, chat_id, actor.id, False, None)
        return ChatMuteOut(chat_id=chat_id, muted=False)
    span = MUTE_SPANS.get(body.duration)
    until = uow.ctx.clock.now() + span if span is not None else None
    await push_repo.set_mute(uow.session, chat_id, actor.id, True, until)
    return ChatMuteOut(chat_id=chat_id, muted=True, until=until)


def _origin(endpoint: str) -> str:
    return urlsplit(endpoint).hostname or "?"
