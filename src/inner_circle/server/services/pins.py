"""Pinned messages: the bar at the top of a chat (ADR 14).

Anyone may pin in private chats and groups; in the family chat only admins may.
"""

from __future__ import annotations

import uuid

from inner_circle.core.actor import Actor
from inner_circle.core.errors import ValidationFailed
from inner_circle.protocol.events import ServerEvent
from inner_circle.protocol.rest import MessageOut
from inner_circle.server.access import access_chat, access_message, require_admin
from inner_circle.server.db.uow import UnitOfWork
from inner_circle.server.repositories import rich as rich_repo
from inner_circle.server.repositories import sync as sync_repo
from inner_circle.server.services import rich
from inner_circle.server.services.messages import announce

__all__ = ["list_pins", "set_pin"]


async def set_pin(
    uow: UnitOfWork, actor: Actor, chat_id: uuid.UUID, message_id: uuid.UUID, *, pinned: bool
) -> MessageOut:
    """Pin or unpin a message; the message as it is now (``pinnedAt``).

    Guarantees: idempotent (pinning a pinned message keeps its first pin time and
    announces nothing); a change gets a sync-log entry (``messagePinned`` /
    ``messageUnpinned`` in /sync); the chat does not move up, unread counts stay.
    Raises: NotFound (chat, message, or history the actor may not read); Forbidden
    (ADMIN_ONLY) in the family chat for a member who is not an admin; ValidationFailed
    when pinning a deleted message.
    Emits: ``messagePinned`` / ``messageUnpinned`` (the message) to every participant
    who can see it, on a change.
    """
    chat, participant, message = await access_message(uow, actor, chat_id, message_id)
    if chat.type == "family":
        require_admin(actor)
    if pinned and message.deleted_at is not None:
        raise ValidationFailed("A deleted message cannot be pinned")
    changed = (message.pinned_at is None) == pinned
    if changed:
        now = uow.ctx.clock.now()
        message.pinned_at = now if pinned else None
        message.pinned_by_id = actor.id if pinned else None
        sync_repo.record(
            uow.session,
            "pin" if pinned else "unpin",
            now,
            chat_id=chat.id,
            message_id=message.id,
            seq=message.seq,
        )
    name = ServerEvent.MESSAGE_PINNED if pinned else ServerEvent.MESSAGE_UNPINNED
    return await announce(
        uow, chat, message, name if changed else None, viewer_from=participant.history_from_seq
    )


async def list_pins(uow: UnitOfWork, actor: Actor, chat_id: uuid.UUID) -> list[MessageOut]:
    """The chat's pinned messages that are not deleted, the latest pin first.

    Raises: NotFound when the actor is not in the chat.
    """
    chat, participant = await access_chat(uow, actor, chat_id)
    rows = await rich_repo.pinned(uow.session, chat.id, participant.history_from_seq)
    history_from = {chat.id: participant.history_from_seq}
    return await rich.message_outs(uow, rows, {chat.id: chat.name}, history_from=history_from)
