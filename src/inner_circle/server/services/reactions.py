"""Reactions: one emoji per member per message, put or taken back (ADR 14)."""

from __future__ import annotations

import uuid

from inner_circle.core import limits
from inner_circle.core.actor import Actor
from inner_circle.core.errors import ValidationFailed
from inner_circle.protocol.events import ReactionsUpdated, ServerEvent
from inner_circle.server.access import access_message
from inner_circle.server.db.uow import UnitOfWork
from inner_circle.server.repositories import chats as chats_repo
from inner_circle.server.repositories import rich as rich_repo
from inner_circle.server.repositories import sync as sync_repo
from inner_circle.server.services.rich import reactions_out

__all__ = ["set_reaction"]


async def set_reaction(
    uow: UnitOfWork,
    actor: Actor,
    chat_id: uuid.UUID,
    message_id: uuid.UUID,
    emoji: str,
    *,
    active: bool,
) -> ReactionsUpdated:
    """Put (``active``) or take back the actor's ``emoji`` on a message; the reactions now.

    Guarantees: idempotent (putting one that is there, or taking back one that is not,
    changes nothing and announces nothing); the chat does not move up and nobody's unread
    count changes; a change gets a sync-log entry (``reactionsUpdated`` in /sync).
    Raises: NotFound (chat, message, or history the actor may not read); ValidationFailed
    when reacting to a deleted message or with more than ``REACTIONS_PER_MEMBER_MAX``
    different emoji.
    Emits: ``reactionsUpdated`` to every participant who can see the message, on a change.
    """
    chat, _, message = await access_message(uow, actor, chat_id, message_id)
    if active:
        if message.deleted_at is not None:
            raise ValidationFailed("A deleted message cannot get reactions")
        mine = await rich_repo.member_emoji_count(uow.session, message.id, actor.id)
        if mine >= limits.REACTIONS_PER_MEMBER_MAX:
            raise ValidationFailed(
                f"At most {limits.REACTIONS_PER_MEMBER_MAX} different reactions per message"
            )
        changed = await rich_repo.add_reaction(
            uow.session, message.id, actor.id, emoji, uow.ctx.clock.now()
        )
    else:
        changed = await rich_repo.remove_reaction(uow.session, message.id, actor.id, emoji)
    grouped = (await rich_repo.reactions_of(uow.session, [message.id])).get(message.id, [])
    update = ReactionsUpdated(
        chat_id=chat.id, message_id=message.id, reactions=reactions_out(grouped)
    )
    if changed:
        sync_repo.record(
            uow.session,
            "reaction",
            uow.ctx.clock.now(),
            chat_id=chat.id,
            message_id=message.id,
            seq=message.seq,
        )
        seeing = await chats_repo.participant_ids_seeing(uow.session, chat.id, message.seq)
        uow.emit(ServerEvent.REACTIONS_UPDATED, update, seeing)
    return update
