"""Forwarding: copies of messages in other chats, each marked with its origin (ADR 14).

The copies are sent through the one send path (``services.group_commit``): the edge asks
:func:`plan` for the sends, in a read unit of work, then hands them to the batcher
together (:meth:`SendBatcher.send_many`), so they share one transaction in the usual case.
A forward of a message with files carries the same files (services/media.py copies them
for the forwarder in the send's transaction; the stored bytes are shared).
"""

from __future__ import annotations

from inner_circle.core.actor import Actor
from inner_circle.core.errors import NotFound, ValidationFailed
from inner_circle.protocol.rest import ForwardIn, SendMessageIn
from inner_circle.server.db.uow import UnitOfWork
from inner_circle.server.repositories import chats as chats_repo
from inner_circle.server.repositories import media as media_repo
from inner_circle.server.repositories import messages as messages_repo
from inner_circle.server.services.messages import Origin, SendRequest

__all__ = ["plan"]


async def plan(
    uow: UnitOfWork, actor: Actor, body: ForwardIn, origin_sid: str | None = None
) -> list[SendRequest]:
    """The sends a forward makes: each message (in the order given) to each chat.

    A forward of a forward names the first origin.
    Raises: NotFound when a message or chat is not one the actor may read (nothing is
    sent); ValidationFailed when a message was deleted.
    """
    mine = {
        chat.id: participant
        for chat, participant in await chats_repo.memberships_of(
            uow.session, actor.id, include_hidden=True
        )
    }
    for chat_id in body.to_chat_ids:
        if chat_id not in mine:
            raise NotFound("Chat not found")
    found = await messages_repo.by_ids(uow.session, body.message_ids)
    files = await media_repo.for_messages(uow.session, body.message_ids)
    sources = []
    for message_id in body.message_ids:
        row = found.get(message_id)
        member = mine.get(row[0].chat_id) if row else None
        if row is None or member is None or row[0].seq <= member.history_from_seq:
            raise NotFound("Message not found")
        message = row[0]
        if message.deleted_at is not None:
            raise ValidationFailed("A deleted message cannot be forwarded")
        origin = Origin(message.id, message.chat_id, message.sender_id)
        if message.forwarded_message_id and message.forwarded_chat_id:
            first_sender = message.forwarded_sender_id or message.sender_id
            origin = Origin(message.forwarded_message_id, message.forwarded_chat_id, first_sender)
        caption = "" if message.content_is_fallback else message.content
        attached = [attachment.id for attachment, _ in files.get(message.id, [])]
        sources.append((caption, attached, origin))
    return [
        SendRequest(
            actor,
            SendMessageIn(chat_id=chat_id, content=caption, attachment_ids=attached),
            origin_sid,
            forwarded=origin,
        )
        for chat_id in body.to_chat_ids
        for caption, attached, origin in sources
    ]
