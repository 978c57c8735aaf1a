"""Catch-up: everything a client missed, from one cursor, in order."""

from __future__ import annotations

import uuid

from inner_circle.core import limits
from inner_circle.core.actor import Actor
from inner_circle.core.cursors import format_cursor, parse_cursor
from inner_circle.core.errors import ValidationFailed
from inner_circle.protocol.events import ServerEvent
from inner_circle.protocol.rest import MessageOut, SyncEvent, SyncOut
from inner_circle.server.db.uow import UnitOfWork
from inner_circle.server.repositories import chats as chats_repo
from inner_circle.server.repositories import messages as messages_repo
from inner_circle.server.repositories import sync as sync_repo
from inner_circle.server.repositories import users as users_repo
from inner_circle.server.services import chats as chat_service
from inner_circle.server.services import media, rich
from inner_circle.server.services.views import AnyMessage, Named, user_out

__all__ = ["sync"]

RECENT_PER_CHAT = 30
# Sync-log kinds about one message, and the event each becomes (with the message as it is).
MESSAGE_EVENTS = {
    "message": "message",
    "edit": ServerEvent.MESSAGE_UPDATED,
    "delete": ServerEvent.MESSAGE_UPDATED,
    "reaction": ServerEvent.REACTIONS_UPDATED,
    "pin": ServerEvent.MESSAGE_PINNED,
    "unpin": ServerEvent.MESSAGE_UNPINNED,
}


async def sync(
    uow: UnitOfWork,
    actor: Actor,
    since: str | int | None,
    limit: int = limits.SYNC_PAGE_DEFAULT,
) -> SyncOut:
    """What the actor missed after cursor ``since``, at most ``limit`` events per call.

    Guarantees: events come in the order the server made the changes (cursor ids
    are given in commit order); every event carries the current state of what it
    names, so a message created and then edited in the window comes as ``message``
    and ``messageUpdated`` with the same (final) content, and clients apply events
    idempotently; a chat's event comes once per page (at its last change in that
    page); nothing from chats the actor is not in, nor messages of a group sent before
    the actor joined when the group keeps its history from newcomers. Without
    ``since``, a fresh start: every chat and its last messages, and a cursor.

    A cursor this database did not issue (another epoch: a restored backup or a new
    database; or an id above the newest) gets a fresh start with ``reset``. A plain
    integer cursor from before epochs is judged by its id alone.
    Raises: ValidationFailed for a value that is not a cursor.
    """
    epoch = await sync_repo.epoch(uow.session)
    latest = await sync_repo.latest_id(uow.session)
    position = _position(since, epoch, latest)
    if position is None:
        chats = await chat_service.list_my_chats(uow, actor)
        history_from = {
            chat.id: mine.history_from_seq
            for chat, mine in await chats_repo.memberships_of(uow.session, actor.id)
        }
        rows: list[tuple[AnyMessage, Named]] = []
        for chat in chats:
            page, _ = await messages_repo.page(
                uow.session,
                chat.id,
                limit=RECENT_PER_CHAT,
                visible_after=history_from.get(chat.id, 0),
            )
            rows.extend(page)
        recent = await rich.message_outs(
            uow, rows, {chat.id: chat.name for chat in chats}, history_from=history_from
        )
        await media.hydrate(uow, recent)
        return SyncOut(
            cursor=format_cursor(epoch, latest),
            reset=since is not None,
            chats=chats,
            messages=recent,
        )
    entries, has_more = await sync_repo.entries_for(uow.session, actor.id, position, limit)
    messages = await _messages(
        uow, actor, [e.message_id for e in entries if e.kind in MESSAGE_EVENTS]
    )
    chat_ids = {e.chat_id for e in entries if e.kind == "chat" and e.chat_id is not None}
    chat_views = {c.id: c for c in await chat_service.views_of(uow, actor, chat_ids)}
    last_chat_entry = {e.chat_id: e.id for e in entries if e.kind == "chat"}
    users = await users_repo.by_ids(
        uow.session, [e.user_id for e in entries if e.kind == "user" and e.user_id]
    )
    online = await uow.ctx.presence.online_user_ids()

    events: list[SyncEvent] = []
    for entry in entries:
        if entry.kind in MESSAGE_EVENTS and entry.message_id in messages:
            kind = MESSAGE_EVENTS[entry.kind]
            message = messages[entry.message_id]
            events.append(SyncEvent(id=entry.id, type=kind, message=message))  # type: ignore[arg-type]
        elif entry.kind == "chat" and entry.chat_id in chat_views:
            if last_chat_entry[entry.chat_id] == entry.id:
                events.append(SyncEvent(id=entry.id, type="chat", chat=chat_views[entry.chat_id]))
        elif entry.kind == "removed":
            events.append(
                SyncEvent(id=entry.id, type=ServerEvent.CHAT_REMOVED, chat_id=entry.chat_id)
            )
        elif entry.kind in ("read", "delivered"):
            events.append(
                SyncEvent(
                    id=entry.id,
                    type=entry.kind,  # type: ignore[arg-type]
                    chat_id=entry.chat_id,
                    user_id=entry.user_id,
                    seq=entry.seq,
                )
            )
        elif entry.kind == "user" and entry.user_id in users:
            user = users[entry.user_id]
            events.append(
                SyncEvent(id=entry.id, type="user", user=user_out(user, online=user.id in online))
            )
    cursor = entries[-1].id if entries else position
    return SyncOut(cursor=format_cursor(epoch, cursor), has_more=has_more, events=events)


def _position(since: str | int | None, epoch: str, latest: int) -> int | None:
    """The id to continue after, or None for a fresh start (no cursor, or a foreign one)."""
    if since is None:
        return None
    try:
        cursor = parse_cursor(since)
    except ValueError as exc:
        raise ValidationFailed("since: not a sync cursor") from exc
    if cursor.epoch is not None and cursor.epoch != epoch:
        return None
    if cursor.id > latest:
        return None
    return cursor.id


async def _messages(
    uow: UnitOfWork, actor: Actor, ids: list[uuid.UUID | None]
) -> dict[uuid.UUID, MessageOut]:
    found = await messages_repo.by_ids(uow.session, [i for i in ids if i is not None])
    if not found:
        return {}
    names = await chats_repo.names(uow.session, {m.chat_id for m, _ in found.values()})
    history_from = {
        chat.id: mine.history_from_seq
        for chat, mine in await chats_repo.memberships_of(
            uow.session, actor.id, include_hidden=True
        )
    }
    outs = await rich.message_outs(uow, list(found.values()), names, history_from=history_from)
    await media.hydrate(uow, outs)
    return {out.id: out for out in outs}
