"""The chat namespace ``/``: each event parses, calls a use case, acks.

Handlers hold no rules: they turn a payload into a protocol model, open a unit of
work, call the service and shape the acknowledgement. A refused request answers
with an ``error`` event (the seed's way) and an ``{ok: false}`` ack; the
connection stays open. Connecting, grants and dispatch are shared with the calls
namespace (``socket/granted.py``).
"""

from __future__ import annotations

import logging
from typing import Any

from inner_circle.core.actor import Actor
from inner_circle.core.errors import InnerCircleError, RateLimited
from inner_circle.core.limits import SEQ_MAX
from inner_circle.protocol.events import (
    ClientEvent,
    EditMessageIn,
    GetMessagesIn,
    MarkAsReadIn,
    MarkedAsRead,
    MessageRefIn,
    ServerEvent,
    SyncIn,
    TypingIn,
)
from inner_circle.protocol.rest import GroupChatIn, MarkReadIn, SendMessageIn
from inner_circle.server.db.uow import UnitOfWork, UnitOfWorkFactory
from inner_circle.server.limits import Limits
from inner_circle.server.realtime.rooms import FAMILY_ROOM
from inner_circle.server.services import chats, messages, presence, sync
from inner_circle.server.services.group_commit import SendBatcher
from inner_circle.server.socket.acks import success
from inner_circle.server.socket.granted import (
    RESERVED_EVENTS,
    GrantedNamespace,
    NoPayload,
    dump,
    parse,
)

__all__ = ["RESERVED_EVENTS", "ChatNamespace", "parse"]

log = logging.getLogger(__name__)
TOO_MANY_SOCKETS = "Too many open connections for this member (at most {cap}); close another first"


class ChatNamespace(GrantedNamespace):
    FRESH_EVENTS = frozenset({ClientEvent.DELETE_MESSAGE})
    # sendMessage spends from the member's message bucket (server/limits), not this one.
    UNBUDGETED_EVENTS = frozenset({ClientEvent.SEND_MESSAGE})

    def __init__(
        self, uows: UnitOfWorkFactory, sends: SendBatcher, limits: Limits | None = None
    ) -> None:
        super().__init__("/", uows, limits)
        self._sends = sends  # the app's one batcher, shared with REST
        self._max_sockets = uows.ctx.settings.socket_max_per_member

    # --- connection lifecycle: presence ------------------------------------------------

    async def _admit(self, actor: Actor) -> None:
        if self._max_sockets <= 0:
            return
        if len(await self._uows.ctx.presence.sids(actor.id)) >= self._max_sockets:
            raise RateLimited(TOO_MANY_SOCKETS.format(cap=self._max_sockets), 30.0)

    async def _opened(self, sid: str, actor: Actor) -> None:
        await self.enter_room(sid, FAMILY_ROOM)
        async with self._uows.read() as uow:
            await presence.connection_opened(uow, actor, sid)
            await uow.commit()

    async def _closed(self, sid: str, actor: Actor) -> None:
        try:
            async with self._uows.write() as uow:
                await presence.connection_closed(uow, actor.id, sid)
                await uow.commit()
        except InnerCircleError:
            log.warning("could not record last-seen for %s: database unavailable", actor.id)

    # --- events -----------------------------------------------------------------------

    async def on_sendMessage(self, sid: str, data: Any = None) -> dict[str, Any]:
        async def run(actor: Actor) -> dict[str, Any]:
            body = parse(SendMessageIn, data)
            if self._limits is not None:
                await self._limits.message_sent(actor.id)
            message, _ = await self._sends.send(messages.SendRequest(actor, body, sid))
            return success(message=dump(message))

        return await self._handle(sid, ClientEvent.SEND_MESSAGE, run)

    async def on_getMessages(self, sid: str, data: Any = None) -> dict[str, Any]:
        async def page(uow: UnitOfWork, actor: Actor, query: GetMessagesIn) -> dict[str, Any]:
            return dump(await messages.list_messages(uow, actor, query))

        ack = await self._call(sid, ClientEvent.GET_MESSAGES, GetMessagesIn, data, page)
        if ack["ok"]:  # the seed's reply event
            await self.emit(ServerEvent.CHAT_MESSAGES, ack["messages"], to=sid)
        return ack

    async def on_getChats(self, sid: str, data: Any = None) -> dict[str, Any]:
        async def mine(uow: UnitOfWork, actor: Actor, _: NoPayload) -> dict[str, Any]:
            return {"chats": [dump(chat) for chat in await chats.list_my_chats(uow, actor)]}

        ack = await self._call(sid, ClientEvent.GET_CHATS, NoPayload, data, mine)
        if ack["ok"]:  # the seed's reply event
            await self.emit(ServerEvent.USER_CHATS, ack["chats"], to=sid)
        return ack

    async def on_createChat(self, sid: str, data: Any = None) -> dict[str, Any]:
        async def create(uow: UnitOfWork, actor: Actor, body: GroupChatIn) -> dict[str, Any]:
            return {"chat": dump(await chats.create_group_chat(uow, actor, body))}

        return await self._call(sid, ClientEvent.CREATE_CHAT, GroupChatIn, data, create, write=True)

    async def on_typing(self, sid: str, data: Any = None) -> dict[str, Any]:
        async def tell(uow: UnitOfWork, actor: Actor, body: TypingIn) -> dict[str, Any]:
            await presence.typing(uow, actor, body)
            return {}

        return await self._call(sid, ClientEvent.TYPING, TypingIn, data, tell)

    async def on_markRead(self, sid: str, data: Any = None) -> dict[str, Any]:
        async def read(uow: UnitOfWork, actor: Actor, body: MarkReadIn) -> dict[str, Any]:
            return dump(await messages.mark_read(uow, actor, body.chat_id, body.seq))

        return await self._call(sid, ClientEvent.MARK_READ, MarkReadIn, data, read, write=True)

    async def on_markAsRead(self, sid: str, data: Any = None) -> dict[str, Any]:
        """The seed's ``markAsRead {chatId}``: ``markRead`` up to the chat's newest message."""

        async def read_all(uow: UnitOfWork, actor: Actor, body: MarkAsReadIn) -> dict[str, Any]:
            return dump(await messages.mark_read(uow, actor, body.chat_id, SEQ_MAX))

        ack = await self._call(
            sid, ClientEvent.MARK_AS_READ, MarkAsReadIn, data, read_all, write=True
        )
        if ack["ok"]:  # the seed's reply event
            answer = MarkedAsRead(chat_id=ack["chatId"], user_id=ack["userId"])
            await self.emit(ServerEvent.MARKED_AS_READ, dump(answer), to=sid)
        return ack

    async def on_markDelivered(self, sid: str, data: Any = None) -> dict[str, Any]:
        async def delivered(uow: UnitOfWork, actor: Actor, body: MarkReadIn) -> dict[str, Any]:
            seq = await messages.mark_delivered(uow, actor, body.chat_id, body.seq)
            return {"chatId": str(body.chat_id), "seq": seq}

        return await self._call(
            sid, ClientEvent.MARK_DELIVERED, MarkReadIn, data, delivered, write=True
        )

    async def on_editMessage(self, sid: str, data: Any = None) -> dict[str, Any]:
        async def change(uow: UnitOfWork, actor: Actor, body: EditMessageIn) -> dict[str, Any]:
            message = await messages.edit_message(
                uow, actor, body.chat_id, body.message_id, body.content
            )
            return {"message": dump(message)}

        return await self._call(
            sid, ClientEvent.EDIT_MESSAGE, EditMessageIn, data, change, write=True
        )

    async def on_deleteMessage(self, sid: str, data: Any = None) -> dict[str, Any]:
        async def erase(uow: UnitOfWork, actor: Actor, body: MessageRefIn) -> dict[str, Any]:
            message = await messages.delete_message(uow, actor, body.chat_id, body.message_id)
            return {"message": dump(message)}

        return await self._call(
            sid, ClientEvent.DELETE_MESSAGE, MessageRefIn, data, erase, write=True
        )

    async def on_sync(self, sid: str, data: Any = None) -> dict[str, Any]:
        async def catch_up(uow: UnitOfWork, actor: Actor, query: SyncIn) -> dict[str, Any]:
            return dump(await sync.sync(uow, actor, query.since, query.limit))

        return await self._call(sid, ClientEvent.SYNC, SyncIn, data, catch_up)
