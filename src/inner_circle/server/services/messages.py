"""Messages: sending, history, and read/delivered positions."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from inner_circle.core.actor import Actor
from inner_circle.core.errors import Forbidden, InnerCircleError, NotFound, ValidationFailed
from inner_circle.core.mentions import mentioned
from inner_circle.core.text import is_blank
from inner_circle.protocol.events import GetMessagesIn, ReadMarker, ServerEvent
from inner_circle.protocol.rest import (
    CallSummary,
    MessageOut,
    MessagePage,
    ReadStateOut,
    SendMessageIn,
)
from inner_circle.server.access import access_chat, access_chats, access_history
from inner_circle.server.db.models import Attachment, Chat, Message
from inner_circle.server.db.uow import UnitOfWork
from inner_circle.server.ports import DEVICE_HOLDERS
from inner_circle.server.repositories import chats as chats_repo
from inner_circle.server.repositories import messages as messages_repo
from inner_circle.server.repositories import rich as rich_repo
from inner_circle.server.repositories import search as search_repo
from inner_circle.server.repositories import sync as sync_repo
from inner_circle.server.repositories import users as users_repo
from inner_circle.server.repositories.chats import Audience
from inner_circle.server.repositories.messages import StoredMessage
from inner_circle.server.services import chats as chat_service
from inner_circle.server.services import media, rich
from inner_circle.server.services.views import AnyMessage, Named, message_out, unread_count

__all__ = [
    "Origin",
    "SendRaced",
    "SendRequest",
    "SendResult",
    "delete_message",
    "edit_message",
    "list_messages",
    "mark_delivered",
    "mark_read",
    "send_message",
    "send_messages",
]


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a forwarded message first came from (services/forwards.py checks it)."""

    message_id: uuid.UUID
    chat_id: uuid.UUID
    sender_id: uuid.UUID


@dataclass(frozen=True, slots=True)
class SendRequest:
    """One send: who, what, and the connection that sent it (told with ``messageSent``)."""

    actor: Actor
    body: SendMessageIn
    origin_sid: str | None = None
    # An earlier attempt with this client id failed, perhaps in an ambiguous commit that
    # stored the message but sent no events: if it is stored, announce it (again).
    republish: bool = False
    # A forward: the message it copies.
    forwarded: Origin | None = None
    # A call entry (services/calls.py): the finished call this message stands for.
    call: CallSummary | None = None


SendResult = tuple[MessageOut, bool] | InnerCircleError


class SendRaced(Exception):
    """A concurrent send committed one of a batch's client message ids first.

    Not an answer for a client: the transaction holds sequence numbers it must not keep.
    Roll it back and run the same sends again; each then answers with what is stored.
    """


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
        SendRaced: a concurrent send stored this client id first (roll back, run again).

    Emits (new messages only): ``messageReceived`` to every participant's connections,
    and ``messageSent`` to the sending connection ``origin_sid``.
    """
    (result,) = await send_messages(uow, [SendRequest(actor, body, origin_sid)])
    if isinstance(result, InnerCircleError):
        raise result
    return result


async def send_messages(uow: UnitOfWork, requests: Sequence[SendRequest]) -> list[SendResult]:
    """Store several sends in one transaction (group commit); one result per request, in order.

    Guarantees: each request gets what :func:`send_message` would give it, as
    ``(message, created)`` or the error it would raise; a refused request stores
    nothing and does not hold up the others. Messages to one chat get consecutive
    sequence numbers in request order. A ``clientMessageId`` already stored, or
    repeated within the batch, answers with the first message and stores nothing.
    The cost is a fixed number of statements per batch plus one marker update per
    (chat, sender), not per message.

    Raises:
        SendRaced: a concurrent transaction committed one of the new client ids first;
            roll this one back and run the same requests again (they then answer with the
            stored messages). ``services.group_commit.SendBatcher`` does.

    Emits: as :func:`send_message`, for each new message, and for an already stored
    one whose request says ``republish`` (its first events may never have gone out);
    ``chatCreated`` to a member who had deleted the private chat from their list (it
    comes back with the new message).
    """
    results: list[SendResult | None] = [None] * len(requests)
    access = await access_chats(uow, [(r.actor, r.body.chat_id) for r in requests])
    access = await _check_replies(uow, requests, access)
    keys = [
        (r.actor.id, r.body.client_message_id)
        for r, allowed in zip(requests, access, strict=True)
        if r.body.client_message_id is not None and not isinstance(allowed, InnerCircleError)
    ]
    stored = await messages_repo.by_client_ids(uow.session, keys) if keys else {}
    files = await _take_files(uow, requests, access, stored)
    fresh: list[tuple[int, SendRequest, Audience]] = []
    first_with_key: dict[tuple[uuid.UUID, str], int] = {}
    repeats: list[tuple[int, int]] = []
    earlier: dict[int, Message] = {}
    for index, (request, allowed) in enumerate(zip(requests, access, strict=True)):
        if isinstance(allowed, InnerCircleError):
            results[index] = allowed
            continue
        refused = files.get(index)
        if isinstance(refused, InnerCircleError):
            results[index] = refused
            continue
        if request.body.client_message_id is not None:
            key = (request.actor.id, request.body.client_message_id)
            if key in stored:
                earlier[index] = stored[key]
                continue
            if key in first_with_key:
                repeats.append((index, first_with_key[key]))
                continue
            first_with_key[key] = index
        fresh.append((index, request, allowed))

    taken: dict[uuid.UUID, chats_repo.TakenSeqs] = {}
    attached = {i: f for i, f in files.items() if not isinstance(f, InnerCircleError)}
    created = await _store(uow, fresh, taken, attached)
    mentions = await _record_mentions(uow, fresh, created)
    parts = await rich.rich_parts(uow, list(created.values()), stored=False, mentions=mentions)
    parts.update(await rich.rich_parts(uow, list(earlier.values())))
    highest: dict[tuple[uuid.UUID, uuid.UUID], int] = {}
    for message in created.values():
        marker = (message.chat_id, message.sender_id)
        highest[marker] = max(highest.get(marker, 0), message.seq)
    await chats_repo.advance_read_markers(
        uow.session, [(chat_id, user_id, seq) for (chat_id, user_id), seq in highest.items()]
    )
    senders = await _senders(uow, requests, [*created.values(), *earlier.values()])
    names = {chat_id: seqs.name for chat_id, seqs in taken.items()}
    missing = {m.chat_id for m in earlier.values()} - names.keys()
    if missing:  # only answers to retries need a lookup
        names.update(await chats_repo.names(uow.session, missing))
    # A private chat a member deleted from their list comes back when anyone writes in it.
    private = {chat_id for chat_id, seqs in taken.items() if seqs.type == "private"}
    if private:
        await chat_service.reveal_hidden(uow, private)
    outs = {
        index: message_out(
            message, senders[message.sender_id], names[message.chat_id], parts[message.id]
        )
        for index, message in created.items()
    }
    await media.hydrate(uow, [outs[i] for i in attached if i in outs])
    for index, request, recipients in fresh:
        message = created.get(index)
        if message is None:
            continue
        out = outs[index]
        await _announce(uow, out, parts[message.id].reply_seq, recipients, request.origin_sid)
        results[index] = (out, True)
    retried = {
        index: message_out(
            message, senders[message.sender_id], names[message.chat_id], parts[message.id]
        )
        for index, message in earlier.items()
    }
    await media.hydrate(uow, list(retried.values()))
    for index, message in earlier.items():
        out = retried[index]
        results[index] = (out, False)
        request, recipients = requests[index], access[index]
        if request.republish and not isinstance(recipients, InnerCircleError):
            reply_seq = parts[message.id].reply_seq
            await _announce(uow, out, reply_seq, recipients, request.origin_sid)
    for index, first in repeats:
        answer = results[first]
        results[index] = (answer[0], False) if isinstance(answer, tuple) else answer
    return [result for result in results if result is not None]


async def _announce(
    uow: UnitOfWork,
    out: MessageOut,
    reply_seq: int | None,
    audience: Audience,
    origin_sid: str | None,
) -> None:
    """``messageReceived`` to the chat (each member the form they may see), with who has a
    push device (read with the members: the push planner asks nothing, push/dispatch.py);
    ``messageSent`` to the sending connection."""
    hint = {DEVICE_HOLDERS: audience.device_holders}
    for shown, readers in await rich.for_audience(uow, out, reply_seq, audience.members):
        uow.emit(ServerEvent.MESSAGE_RECEIVED, shown, readers, extra=hint)
    if origin_sid is not None:
        uow.emit_to_sid(ServerEvent.MESSAGE_SENT, out, origin_sid)


async def _senders(
    uow: UnitOfWork, requests: Sequence[SendRequest], messages: list[AnyMessage]
) -> dict[uuid.UUID, Named]:
    """Who sent each message, as it shows them: the acting members themselves (their
    grant holds their current name, ``services/grants.py``); a lookup only for others."""
    senders: dict[uuid.UUID, Named] = {r.actor.id: r.actor for r in requests}
    others = {m.sender_id for m in messages} - senders.keys()
    if others:
        senders.update(await users_repo.by_ids(uow.session, others))
    return senders


async def _take_files(
    uow: UnitOfWork,
    requests: Sequence[SendRequest],
    access: Sequence[Audience | InnerCircleError],
    stored: dict[tuple[uuid.UUID, str], Message],
) -> dict[int, list[Attachment] | InnerCircleError]:
    """The checked attachments of each new send that names some (retries are answered
    with the first message, their ids are not checked again)."""
    wanted = [
        index
        for index, (request, allowed) in enumerate(zip(requests, access, strict=True))
        if request.body.attachment_ids
        and not isinstance(allowed, InnerCircleError)
        and (request.actor.id, request.body.client_message_id) not in stored
    ]
    if not wanted:
        return {}
    # A forward names the origin's files (services/forwards.py checked that the forwarder
    # may read them): the forwarder gets copies; any other send names uploads of its own.
    uploads = [i for i in wanted if requests[i].forwarded is None]
    checked = await media.take_attachments(
        uow, [(requests[i].actor, requests[i].body.attachment_ids) for i in uploads]
    )
    taken: dict[int, list[Attachment] | InnerCircleError] = dict(zip(uploads, checked, strict=True))
    for i in wanted:
        if requests[i].forwarded is not None:
            taken[i] = await media.copies(uow, requests[i].actor, requests[i].body.attachment_ids)
    return taken


async def _store(
    uow: UnitOfWork,
    fresh: list[tuple[int, SendRequest, Audience]],
    taken: dict[uuid.UUID, chats_repo.TakenSeqs],
    files: dict[int, list[Attachment]],
) -> dict[int, StoredMessage]:
    """Insert the new messages with their sequence numbers, and bind their files;
    {request index: message}. ``taken`` receives each chat's sequence numbers, name and
    type. A file message without a caption gets a text fallback as its content.

    Raises:
        SendRaced: a concurrent send committed one of these client ids first.
    """
    if not fresh:
        return {}
    now = uow.ctx.clock.now()
    by_chat: dict[uuid.UUID, list[tuple[int, SendRequest]]] = {}
    for index, request, _ in fresh:
        by_chat.setdefault(request.body.chat_id, []).append((index, request))
    taken.update(
        await chats_repo.take_seqs_many(
            uow.session, {chat_id: len(items) for chat_id, items in by_chat.items()}, now
        )
    )
    # Plain values, not ORM objects: the rows go to the driver (messages_repo).
    created: dict[int, StoredMessage] = {}
    for chat_id, items in by_chat.items():
        last = taken[chat_id].last
        for offset, (index, request) in enumerate(items):
            caption = request.body.content
            fallback = index in files and is_blank(caption)
            created[index] = StoredMessage(
                id=uuid.uuid4(),
                chat_id=chat_id,
                sender_id=request.actor.id,
                content=media.fallback_text(files[index]) if fallback else caption,
                content_is_fallback=fallback,
                client_message_id=request.body.client_message_id,
                kind="text" if request.call is None else "call",
                call=None if request.call is None else request.call.model_dump(mode="json"),
                seq=last - len(items) + 1 + offset,
                created_at=now,
                updated_at=now,
                reply_to_id=request.body.reply_to_id,
                forwarded_message_id=request.forwarded and request.forwarded.message_id,
                forwarded_chat_id=request.forwarded and request.forwarded.chat_id,
                forwarded_sender_id=request.forwarded and request.forwarded.sender_id,
                edited_at=None,
                deleted_at=None,
                pinned_at=None,
            )
    stored = await messages_repo.insert_unless_sent(uow.session, list(created.values()))
    if stored < len(created):
        # The numbers taken for the skipped rows would leave a gap in the chat: this
        # transaction must not commit. Run again, the winner answers these sends.
        raise SendRaced("a concurrent send stored one of these client message ids first")
    for index, attached in files.items():
        message = created.get(index)
        if message is not None:
            await media.bind(
                uow, attached, message_id=message.id, chat_id=message.chat_id, seq=message.seq
            )
    for message in created.values():
        sync_repo.record(
            uow.session,
            "message",
            now,
            chat_id=message.chat_id,
            message_id=message.id,
            seq=message.seq,
        )
    await search_repo.index(uow.session, created.values())
    return created


async def _check_replies(
    uow: UnitOfWork, requests: Sequence[SendRequest], access: list[Audience | NotFound]
) -> list[Audience | NotFound]:
    """``access`` with a NotFound for each reply to a message the sender cannot see: one
    of another chat, or of a group's history kept from them."""
    asking = [
        i
        for i, (r, allowed) in enumerate(zip(requests, access, strict=True))
        if r.body.reply_to_id is not None and not isinstance(allowed, NotFound)
    ]
    if not asking:
        return access
    originals = await messages_repo.by_ids(
        uow.session,
        {requests[i].body.reply_to_id for i in asking},  # type: ignore[misc]
    )
    checked = list(access)
    for i in asking:
        body = requests[i].body
        found = originals.get(body.reply_to_id)  # type: ignore[arg-type]
        membership = await chats_repo.membership(uow.session, body.chat_id, requests[i].actor.id)
        if (
            found is None
            or found[0].chat_id != body.chat_id
            or membership is None
            or found[0].seq <= membership[1].history_from_seq
        ):
            checked[i] = NotFound("The message replied to was not found")
    return checked


async def _record_mentions(
    uow: UnitOfWork,
    fresh: list[tuple[int, SendRequest, Audience]],
    created: dict[int, StoredMessage],
) -> dict[uuid.UUID, list[uuid.UUID]]:
    """Store whom each new message mentions (its chat's other members); {message id: ids}."""
    naming = [(i, r, who) for i, r, who in fresh if i in created and "@" in r.body.content]
    if not naming:
        return {}
    people = await users_repo.by_ids(uow.session, {u for _, _, who in naming for u in who.members})
    found: dict[uuid.UUID, list[uuid.UUID]] = {}
    for index, request, recipients in naming:
        message = created[index]
        members = [
            (u, people[u].username, people[u].shown_name)
            for u in recipients.members
            if u != request.actor.id and u in people
        ]
        ids = mentioned(request.body.content, members)
        if ids:
            rich_repo.add_mentions(uow.session, message, ids)
            found[message.id] = ids
    return found


async def list_messages(uow: UnitOfWork, actor: Actor, query: GetMessagesIn) -> MessagePage:
    """A page of a chat's history, oldest first (see ``repositories.messages.page``); for a
    member who joined a group that keeps its history from newcomers, what came after.

    Raises: NotFound when the actor is not in the chat.
    """
    place = await access_history(uow, actor, query.chat_id)
    chat_id = query.chat_id
    rows, has_more = await messages_repo.page(
        uow.session,
        chat_id,
        limit=query.limit,
        before=query.before,
        after=query.after,
        offset=query.offset,
        around=query.around,
        visible_after=place.history_from_seq,
    )
    page = MessagePage(
        chat_id=chat_id,
        messages=await rich.message_outs(
            uow, rows, {chat_id: place.chat_name}, history_from={chat_id: place.history_from_seq}
        ),
        has_more=has_more,
    )
    await media.hydrate(uow, page.messages)
    return page


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
        # The push service sends "read" pushes to the member's other devices (ADR 17).
        reader = {"readerSessionId": actor.session_id}
        await _announce_marker(uow, chat.id, actor.id, "read", last_read, extra=reader)
    deleted = await messages_repo.deleted_seqs(uow.session, [(chat.id, last_read)])
    return ReadStateOut(
        chat_id=chat.id,
        user_id=actor.id,
        last_read_seq=last_read,
        unread_count=unread_count(chat.last_seq, last_read, deleted.get(chat.id, ())),
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
        await _announce_marker(uow, chat.id, actor.id, "delivered", seq)
    return max(participant.last_delivered_seq, seq)


async def _announce_marker(
    uow: UnitOfWork,
    chat_id: uuid.UUID,
    user_id: uuid.UUID,
    kind: str,
    seq: int,
    *,
    extra: dict[str, Any] | None = None,
) -> None:
    """Log a moved read/delivered position for sync and tell every participant."""
    sync_repo.record(
        uow.session, kind, uow.ctx.clock.now(), chat_id=chat_id, user_id=user_id, seq=seq
    )
    name = ServerEvent.MESSAGES_READ if kind == "read" else ServerEvent.MESSAGES_DELIVERED
    marker = ReadMarker(chat_id=chat_id, user_id=user_id, seq=seq)
    uow.emit(name, marker, await chats_repo.participant_ids(uow.session, chat_id), extra=extra)


async def edit_message(
    uow: UnitOfWork, actor: Actor, chat_id: uuid.UUID, message_id: uuid.UUID, content: str
) -> MessageOut:
    """Change the text of the actor's own message; it keeps its place and is marked edited.
    Search finds it by its new words only, from this commit on.

    Raises: NotFound (chat or message, or not a participant); Forbidden when the
    message is someone else's; ValidationFailed when it was deleted or is a call entry.
    Emits: ``messageUpdated`` to every participant who can see the message.
    """
    chat, message = await _own_message(uow, actor, chat_id, message_id, allow_admin=False)
    if message.deleted_at is not None:
        raise ValidationFailed("A deleted message cannot be edited")
    if message.kind == "call":
        raise ValidationFailed("A call entry cannot be edited")
    now = uow.ctx.clock.now()
    message.content = content
    message.content_is_fallback = False  # the new text is a caption of the files
    message.edited_at = message.updated_at = now
    await search_repo.reindex(uow.session, message)
    return await _announce_update(uow, chat, message, "edit")


async def delete_message(
    uow: UnitOfWork, actor: Actor, chat_id: uuid.UUID, message_id: uuid.UUID
) -> MessageOut:
    """Delete a message for everyone: its text is erased, its place (seq) stays. The sender
    may delete their own; an admin may delete any (the family's moderator). Idempotent.
    Search no longer finds it, from this commit on.

    Raises: NotFound; Forbidden for someone else's message (unless admin).
    Emits: ``messageUpdated`` (with ``deletedAt``) to every participant who can see it;
    ``chatUpdated`` when the message was unread for someone (it no longer counts).
    """
    chat, message = await _own_message(uow, actor, chat_id, message_id, allow_admin=True)
    newly = message.deleted_at is None
    if newly:
        now = uow.ctx.clock.now()
        message.content = ""
        message.content_is_fallback = False
        message.deleted_at = message.updated_at = now
        await media.release_messages(uow, [message.id])
        await search_repo.forget(uow.session, message.id)
    out = await _announce_update(uow, chat, message, "delete")
    if newly and await chats_repo.anyone_unread(uow.session, chat.id, message.seq):
        await chat_service.announce_chat(uow, chat)
    return out


async def _own_message(
    uow: UnitOfWork, actor: Actor, chat_id: uuid.UUID, message_id: uuid.UUID, *, allow_admin: bool
) -> tuple[Chat, Message]:
    chat, _ = await access_chat(uow, actor, chat_id)
    message = await messages_repo.in_chat(uow.session, chat.id, message_id)
    if message is None:
        raise NotFound("Message not found")
    if message.sender_id != actor.id and not (allow_admin and actor.is_admin):
        raise Forbidden("Only the sender may change this message")
    return chat, message


async def announce(
    uow: UnitOfWork, chat: Chat, message: Message, event: str | None, *, viewer_from: int = 0
) -> MessageOut:
    """Emit ``event`` (unless None) with the stored message to every participant who can
    see it (a quote of a message before a reader's history is redacted for them); returns
    it as the actor, whose history starts after ``viewer_from``, sees it."""
    sender = await users_repo.by_id(uow.session, message.sender_id)
    assert sender is not None
    parts = (await rich.rich_parts(uow, [message]))[message.id]
    out = message_out(message, sender, chat.name, parts)
    await media.hydrate(uow, [out])
    if event is not None:
        seeing = await chats_repo.participant_ids_seeing(uow.session, chat.id, message.seq)
        for shown, readers in await rich.for_audience(uow, out, parts.reply_seq, seeing):
            uow.emit(event, shown, readers)
    hidden = parts.reply_seq is not None and parts.reply_seq <= viewer_from
    return rich.redacted(out) if hidden else out


async def _announce_update(uow: UnitOfWork, chat: Chat, message: Message, kind: str) -> MessageOut:
    sync_repo.record(
        uow.session,
        kind,
        uow.ctx.clock.now(),
        chat_id=message.chat_id,
        message_id=message.id,
        seq=message.seq,
    )
    return await announce(uow, chat, message, ServerEvent.MESSAGE_UPDATED)
