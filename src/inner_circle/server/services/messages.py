"""Messages: sending, history, and read/delivered positions."""

from __future__ import annotations

import uuid

from sqlalchemy.exc import IntegrityError

from inner_circle.core.actor import Actor
from inner_circle.protocol.events import GetMessagesIn, ReadMarker, ServerEvent
from inner_circle.protocol.rest import MessageOut, MessagePage, ReadStateOut, SendMessageIn
from inner_circle.server.access import access_chat
from inner_circle.server.db.models import Message
from inner_circle.server.db.uow import UnitOfWork
from inner_circle.server.repositories import chats as chats_repo
from inner_circle.server.repositories import messages as messages_repo
from inner_circle.server.repositories import users as users_repo
from inner_circle.server.services.views import message_out

__all__ = ["list_messages", "mark_delivered", "mark_read", "send_message"]


async def send_message(
    uow: UnitOfWork, actor: Actor, body: SendMessageIn, *, origin_sid: str | None = None
) -> tuple[MessageOut, bool]:
    """Store a message in a chat the actor is in; returns (message, created).

    Guarantees: the message gets the chat's next sequence number; the same
    ``clientMessageId`` from the same sender returns the first message and stores
    nothing (a unique constraint holds even for concurrent retries); the sender's
    read position moves to it.

    Raises:
        NotFound: the chat does not exist or the actor is not a participant.

    Emits (new messages only): ``messageReceived`` to every participant's connections,
    and ``messageSent`` to the sending connection ``origin_sid``.
    """
    chat, _ = await access_chat(uow, actor, body.chat_id)
    if body.client_message_id is not None:
        existing = await messages_repo.by_client_id(uow.session, actor.id, body.client_message_id)
        if existing is not None:
            return await _existing_out(uow, existing), False
    now = uow.ctx.clock.now()
    try:
        async with uow.session.begin_nested():
            seq = await chats_repo.next_seq(uow.session, chat.id, now)
            message = Message(
                id=uuid.uuid4(),
                chat_id=chat.id,
                sender_id=actor.id,
                content=body.content,
                client_message_id=body.client_message_id,
                seq=seq,
                created_at=now,
                updated_at=now,
            )
            uow.session.add(message)
            await uow.session.flush()
    except IntegrityError:
        # A concurrent retry with the same client id committed first: answer with that one.
        assert body.client_message_id is not None
        existing = await messages_repo.by_client_id(uow.session, actor.id, body.client_message_id)
        if existing is None:
            raise
        return await _existing_out(uow, existing), False
    await chats_repo.advance_marker(uow.session, chat.id, actor.id, read_seq=seq)
    sender = await users_repo.by_id(uow.session, actor.id)
    assert sender is not None
    out = message_out(message, sender)
    recipients = await chats_repo.participant_ids(uow.session, chat.id)
    uow.emit(ServerEvent.MESSAGE_RECEIVED, out, recipients)
    if origin_sid is not None:
        uow.emit_to_sid(ServerEvent.MESSAGE_SENT, out, origin_sid)
    return out, True


async def _existing_out(uow: UnitOfWork, message: Message) -> MessageOut:
    sender = await users_repo.by_id(uow.session, message.sender_id)
    assert sender is not None
    return message_out(message, sender)


async def list_messages(uow: UnitOfWork, actor: Actor, query: GetMessagesIn) -> MessagePage:
    """A page of a chat's history, oldest first (see ``repositories.messages.page``).

    Raises: NotFound when the actor is not in the chat.
    """
    chat, _ = await access_chat(uow, actor, query.chat_id)
    rows, has_more = await messages_repo.page(
        uow.session,
        chat.id,
        limit=query.limit,
        before=query.before,
        after=query.after,
        offset=query.offset,
    )
    return MessagePage(
        chat_id=chat.id, messages=[message_out(m, u) for m, u in rows], has_more=has_more
    )


async def mark_read(uow: UnitOfWork, actor: Actor, chat_id: uuid.UUID, seq: int) -> ReadStateOut:
    """Move the actor's read position forward to ``seq`` (capped at the chat's last message).

    Guarantees: positions never move backwards; reading implies delivered.
    Raises: NotFound when the actor is not in the chat.
    Emits: ``messagesRead`` to every participant (the actor's other devices clear
    their badge) when the position moved.
    """
    chat, participant = await access_chat(uow, actor, chat_id)
    seq = min(seq, chat.last_seq)
    moved = await chats_repo.advance_marker(uow.session, chat.id, actor.id, read_seq=seq)
    last_read = max(participant.last_read_seq, seq)
    if moved:
        marker = ReadMarker(chat_id=chat.id, user_id=actor.id, seq=last_read)
        uow.emit(
            ServerEvent.MESSAGES_READ,
            marker,
            await chats_repo.participant_ids(uow.session, chat.id),
        )
    return ReadStateOut(
        chat_id=chat.id,
        user_id=actor.id,
        last_read_seq=last_read,
        unread_count=max(0, chat.last_seq - last_read),
    )


async def mark_delivered(uow: UnitOfWork, actor: Actor, chat_id: uuid.UUID, seq: int) -> int:
    """Record that the actor's device received messages up to ``seq``; returns the position.

    Raises: NotFound when the actor is not in the chat.
    Emits: ``messagesDelivered`` to every participant when the position moved.
    """
    chat, participant = await access_chat(uow, actor, chat_id)
    seq = min(seq, chat.last_seq)
    moved = await chats_repo.advance_marker(uow.session, chat.id, actor.id, delivered_seq=seq)
    if moved:
        marker = ReadMarker(chat_id=chat.id, user_id=actor.id, seq=seq)
        uow.emit(
            ServerEvent.MESSAGES_DELIVERED,
            marker,
            await chats_repo.participant_ids(uow.session, chat.id),
        )
    return max(participant.last_delivered_seq, seq)
