"""The Socket.IO edge: authenticate on connect, then each event parses, calls a use case, acks.

Handlers hold no rules: they turn a payload into a protocol model, open a unit of
work, call the service and shape the acknowledgement. A refused request answers
with an ``error`` event (the seed's way) and an ``{ok: false}`` ack; the
connection stays open.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import socketio
from pydantic import BaseModel, ValidationError

from inner_circle.core.actor import Actor
from inner_circle.core.errors import ErrorCode, InnerCircleError, Unauthenticated, ValidationFailed
from inner_circle.core.limits import SEQ_MAX
from inner_circle.protocol.events import (
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
from inner_circle.server.limits.text import reject_nul
from inner_circle.server.realtime.notifier import session_room, user_room
from inner_circle.server.services import auth, chats, messages, presence, sync
from inner_circle.server.socket.acks import failure, success
from inner_circle.server.socket.sends import SendBatcher

__all__ = ["ChatNamespace"]

log = logging.getLogger(__name__)
M = TypeVar("M", bound=BaseModel)


def _token_from(environ: dict[str, Any], auth_payload: Any) -> str | None:
    if isinstance(auth_payload, dict):
        token = auth_payload.get("token")
        if isinstance(token, str) and token:
            return token.removeprefix("Bearer ").strip()
    header = environ.get("HTTP_AUTHORIZATION", "")
    if isinstance(header, str) and header.lower().startswith("bearer "):
        return header[7:].strip()
    return None


def _parse(model: type[M], data: Any) -> M:
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ValidationFailed("The payload must be a JSON object")
    reject_nul(data)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first.get("loc", ())) or "payload"
        raise ValidationFailed(f"{field}: {first.get('msg', 'invalid')}") from exc


class NoPayload(BaseModel):
    """Events that take no arguments (extra fields are ignored)."""


def _dump(model: BaseModel) -> Any:
    return model.model_dump(mode="json", by_alias=True)


class ChatNamespace(socketio.AsyncNamespace):
    def __init__(self, uows: UnitOfWorkFactory, limits: Limits | None = None) -> None:
        super().__init__("/")
        self._uows = uows
        self._limits = limits
        self._sends = SendBatcher(uows)

    # --- connection lifecycle ---------------------------------------------------------

    async def on_connect(self, sid: str, environ: dict[str, Any], auth_payload: Any = None) -> None:
        token = _token_from(environ, auth_payload)
        try:
            if token is None:
                raise Unauthenticated(
                    "Send the access token in auth.token or an Authorization header"
                )
            async with self._uows.read() as uow:
                actor = await auth.authenticate(uow, token)
        except InnerCircleError as exc:
            raise ConnectionRefusedError(exc.to_dict()) from None
        await self.save_session(sid, {"actor": actor})
        await self.enter_room(sid, user_room(actor.id))
        if actor.session_id is not None:
            await self.enter_room(sid, session_room(actor.session_id))
        async with self._uows.read() as uow:
            await presence.connection_opened(uow, actor, sid)
            await uow.commit()

    async def on_disconnect(self, sid: str, reason: Any = None) -> None:
        session = await self.get_session(sid)
        actor: Actor | None = session.get("actor")
        if actor is None:
            return
        try:
            async with self._uows.write() as uow:
                await presence.connection_closed(uow, actor.id, sid)
                await uow.commit()
        except InnerCircleError:
            log.warning("could not record last-seen for %s: database unavailable", actor.id)

    # --- events -----------------------------------------------------------------------

    async def on_sendMessage(self, sid: str, data: Any = None) -> dict[str, Any]:
        async def run(actor: Actor) -> dict[str, Any]:
            body = _parse(SendMessageIn, data)
            if self._limits is not None:
                await self._limits.message_sent(actor.id)
            message, _ = await self._sends.send(messages.SendRequest(actor, body, sid))
            return success(message=_dump(message))

        return await self._handle(sid, "sendMessage", run)

    async def on_getMessages(self, sid: str, data: Any = None) -> dict[str, Any]:
        async def page(uow: UnitOfWork, actor: Actor, query: GetMessagesIn) -> dict[str, Any]:
            return _dump(await messages.list_messages(uow, actor, query))

        ack = await self._call(sid, "getMessages", GetMessagesIn, data, page)
        if ack["ok"]:  # the seed's reply event
            await self.emit(ServerEvent.CHAT_MESSAGES, ack["messages"], to=sid)
        return ack

    async def on_getChats(self, sid: str, data: Any = None) -> dict[str, Any]:
        async def mine(uow: UnitOfWork, actor: Actor, _: NoPayload) -> dict[str, Any]:
            return {"chats": [_dump(chat) for chat in await chats.list_my_chats(uow, actor)]}

        ack = await self._call(sid, "getChats", NoPayload, data, mine)
        if ack["ok"]:  # the seed's reply event
            await self.emit(ServerEvent.USER_CHATS, ack["chats"], to=sid)
        return ack

    async def on_createChat(self, sid: str, data: Any = None) -> dict[str, Any]:
        async def create(uow: UnitOfWork, actor: Actor, body: GroupChatIn) -> dict[str, Any]:
            return {"chat": _dump(await chats.create_group_chat(uow, actor, body))}

        return await self._call(sid, "createChat", GroupChatIn, data, create, write=True)

    async def on_typing(self, sid: str, data: Any = None) -> dict[str, Any]:
        async def tell(uow: UnitOfWork, actor: Actor, body: TypingIn) -> dict[str, Any]:
            await presence.typing(uow, actor, body)
            return {}

        return await self._call(sid, "typing", TypingIn, data, tell)

    async def on_markRead(self, sid: str, data: Any = None) -> dict[str, Any]:
        async def read(uow: UnitOfWork, actor: Actor, body: MarkReadIn) -> dict[str, Any]:
            return _dump(await messages.mark_read(uow, actor, body.chat_id, body.seq))

        return await self._call(sid, "markRead", MarkReadIn, data, read, write=True)

    async def on_markAsRead(self, sid: str, data: Any = None) -> dict[str, Any]:
        """The seed's ``markAsRead {chatId}``: ``markRead`` up to the chat's newest message."""

        async def read_all(uow: UnitOfWork, actor: Actor, body: MarkAsReadIn) -> dict[str, Any]:
            return _dump(await messages.mark_read(uow, actor, body.chat_id, SEQ_MAX))

        ack = await self._call(sid, "markAsRead", MarkAsReadIn, data, read_all, write=True)
        if ack["ok"]:  # the seed's reply event
            answer = MarkedAsRead(chat_id=ack["chatId"], user_id=ack["userId"])
            await self.emit(ServerEvent.MARKED_AS_READ, _dump(answer), to=sid)
        return ack

    async def on_markDelivered(self, sid: str, data: Any = None) -> dict[str, Any]:
        async def delivered(uow: UnitOfWork, actor: Actor, body: MarkReadIn) -> dict[str, Any]:
            seq = await messages.mark_delivered(uow, actor, body.chat_id, body.seq)
            return {"chatId": str(body.chat_id), "seq": seq}

        return await self._call(sid, "markDelivered", MarkReadIn, data, delivered, write=True)

    async def on_editMessage(self, sid: str, data: Any = None) -> dict[str, Any]:
        async def change(uow: UnitOfWork, actor: Actor, body: EditMessageIn) -> dict[str, Any]:
            message = await messages.edit_message(
                uow, actor, body.chat_id, body.message_id, body.content
            )
            return {"message": _dump(message)}

        return await self._call(sid, "editMessage", EditMessageIn, data, change, write=True)

    async def on_deleteMessage(self, sid: str, data: Any = None) -> dict[str, Any]:
        async def erase(uow: UnitOfWork, actor: Actor, body: MessageRefIn) -> dict[str, Any]:
            message = await messages.delete_message(uow, actor, body.chat_id, body.message_id)
            return {"message": _dump(message)}

        return await self._call(sid, "deleteMessage", MessageRefIn, data, erase, write=True)

    async def on_sync(self, sid: str, data: Any = None) -> dict[str, Any]:
        async def catch_up(uow: UnitOfWork, actor: Actor, query: SyncIn) -> dict[str, Any]:
            return _dump(await sync.sync(uow, actor, query.since, query.limit))

        return await self._call(sid, "sync", SyncIn, data, catch_up)

    # --- plumbing ---------------------------------------------------------------------

    async def trigger_event(self, event: str, *args: Any) -> Any:
        """Route an event to its handler; unknown events and extra arguments get a clear error."""
        if event in ("connect", "disconnect"):
            return await super().trigger_event(event, *args)
        sid, payload = args[0], (args[1] if len(args) > 1 else None)
        handler = getattr(self, f"on_{event}", None) if event.isidentifier() else None
        if handler is None:
            error = ValidationFailed(f"Unknown event {event[:64]!r}; see docs/api.md")
            await self.emit(ServerEvent.ERROR, {**error.to_dict(), "event": event[:64]}, to=sid)
            return failure(error)
        return await handler(sid, payload)

    async def _call(
        self,
        sid: str,
        event: str,
        model: type[M],
        data: Any,
        use_case: Callable[[UnitOfWork, Actor, M], Awaitable[dict[str, Any]]],
        *,
        write: bool = False,
    ) -> dict[str, Any]:
        """Parse ``data`` as ``model``, run ``use_case`` in one unit of work, commit, ack."""

        async def run(actor: Actor) -> dict[str, Any]:
            body = _parse(model, data)
            async with self._uows.write() if write else self._uows.read() as uow:
                fields = await use_case(uow, actor, body)
                await uow.commit()
            return success(**fields)

        return await self._handle(sid, event, run)

    async def _handle(
        self, sid: str, event: str, run: Callable[[Actor], Awaitable[dict[str, Any]]]
    ) -> dict[str, Any]:
        session = await self.get_session(sid)
        actor: Actor | None = session.get("actor")
        try:
            if actor is None:
                raise Unauthenticated("Not signed in")
            return await run(actor)
        except InnerCircleError as exc:
            error = exc
        except Exception:
            log.exception("unexpected error handling %s", event)
            error = InnerCircleError("Internal server error", ErrorCode.INTERNAL)
        await self.emit(ServerEvent.ERROR, {**error.to_dict(), "event": event}, to=sid)
        return failure(error)
