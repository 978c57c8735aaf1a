"""Presence and typing: who is here, who is writing."""

from __future__ import annotations

import uuid

from inner_circle.core.actor import Actor
from inner_circle.protocol.events import Presence, ServerEvent, TypingIn, UserTyping
from inner_circle.server.access import access_chat
from inner_circle.server.db.uow import UnitOfWork
from inner_circle.server.repositories import chats as chats_repo
from inner_circle.server.repositories import users as users_repo

__all__ = ["connection_closed", "connection_opened", "connections_lost", "typing"]


async def connection_opened(uow: UnitOfWork, actor: Actor, sid: str) -> None:
    """Count a new connection of the actor.

    Emits, when it is their first: ``userConnected`` (the user id, as the seed sent it)
    and ``presence`` to every other signed-in connection of the family (one emit to the
    family room: no member list is read, so a connect costs the same at any family size).
    """
    if await uow.ctx.presence.connect(actor.id, sid):
        uow.emit_to_everyone(ServerEvent.USER_CONNECTED, str(actor.id), skip_sid=sid)
        uow.emit_to_everyone(
            ServerEvent.PRESENCE,
            Presence(user_id=actor.id, is_online=True, last_seen_at=None),
            skip_sid=sid,
        )


async def connection_closed(uow: UnitOfWork, user_id: uuid.UUID, sid: str) -> None:
    """Forget a connection; on the user's last, store last-seen and tell the others.

    Emits, when it was their last: ``userDisconnected`` (the user id) and ``presence``.
    """
    if not await uow.ctx.presence.disconnect(user_id, sid):
        return
    await _went_offline(uow, user_id)


async def connections_lost(uow: UnitOfWork, user_ids: list[uuid.UUID]) -> None:
    """Members whose every connection vanished with a server process that died.

    Called when the presence tracker's entries expired (nobody closed them).
    Emits, for each: ``userDisconnected`` and ``presence`` (offline), as on a last close.
    """
    for user_id in user_ids:
        await _went_offline(uow, user_id)


async def _went_offline(uow: UnitOfWork, user_id: uuid.UUID) -> None:
    user = await users_repo.by_id(uow.session, user_id)
    if user is None:
        return
    now = uow.ctx.clock.now()
    user.last_seen_at = now
    # The member has no connection left: the family room reaches exactly the others.
    uow.emit_to_everyone(ServerEvent.USER_DISCONNECTED, str(user_id))
    uow.emit_to_everyone(
        ServerEvent.PRESENCE, Presence(user_id=user_id, is_online=False, last_seen_at=now)
    )


async def typing(uow: UnitOfWork, actor: Actor, body: TypingIn) -> None:
    """Tell the chat's other participants the actor is (or stopped) typing.

    Raises: NotFound when the actor is not in the chat.
    Emits: ``userTyping`` to the other participants.
    """
    chat, _ = await access_chat(uow, actor, body.chat_id)
    others = [
        uid for uid in await chats_repo.participant_ids(uow.session, chat.id) if uid != actor.id
    ]
    event = UserTyping(
        chat_id=chat.id,
        user_id=actor.id,
        username=actor.username,
        display_name=actor.display_name,
        is_typing=body.is_typing,
    )
    uow.emit(ServerEvent.USER_TYPING, event, others)
