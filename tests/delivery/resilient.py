"""A client that loses nothing: outbox, reconnect with backoff, catch-up from a stored cursor.

This is how a well-behaved Inner Circle client follows ``docs/delivery.md``, written
over the SDK so the delivery tests and the soak run exercise the real protocol:

- **Outbox.** Every send gets a ``clientMessageId`` once and keeps it for every
  retry. It stays in :attr:`ResilientClient.outbox` until an acknowledgement
  (``ok: true``) arrives; a dropped connection, an ack timeout or a retryable
  error (``UNAVAILABLE``, ``RATE_LIMITED``, ``INTERNAL``) sends it again, after a
  reconnect or a backoff. The server stores one message per client id, so a retry
  of a message whose ack was lost answers with the stored one.
- **Reconnect.** A supervisor task reconnects with exponential backoff and jitter
  (``auth.token`` refreshed by logging in again when the server refuses it).
- **Catch-up.** After every connect, *after* the socket is open (so nothing falls
  between the two), it calls ``sync`` from the stored cursor and follows ``hasMore``;
  without a cursor, or on ``reset``, it starts fresh and loads each chat's history.
- **Local state.** Messages keyed by id (live ``messageReceived`` and sync events
  merge without duplicates; an edit or deletion replaces the older version by
  ``updatedAt``), read and delivered positions per (chat, member), kept as maxima.
  :meth:`history` orders a chat by ``seq``.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import socketio

from inner_circle.protocol.rest import ChatOut, MessageOut, SyncEvent, SyncOut
from inner_circle.sdk import InnerCircleClient
from inner_circle.sdk.errors import InnerCircleAPIError, error_from
from inner_circle.sdk.events import EventInbox

__all__ = ["Pending", "ResilientClient"]

RETRYABLE = frozenset({"UNAVAILABLE", "RATE_LIMITED", "INTERNAL"})
Marker = tuple[uuid.UUID, uuid.UUID]  # (chat id, member id)


@dataclass
class Pending:
    """An unacknowledged send; it keeps its client id for every retry."""

    client_message_id: str
    chat_id: uuid.UUID
    content: str
    attempts: int = 0


@dataclass
class Stats:
    sent: int = 0
    acked: int = 0
    resends: int = 0
    ack_timeouts: int = 0
    connects: int = 0
    disconnects: int = 0
    connect_failures: int = 0
    syncs: int = 0
    fresh_starts: int = 0
    live_messages: int = 0
    synced_messages: int = 0
    # A sync event at or below the cursor, out of order, or a message twice in one catch-up.
    sync_anomalies: int = 0
    errors: Counter[str] = field(default_factory=Counter)


class _Retry(Exception):
    def __init__(self, backoff: bool) -> None:
        self.backoff = backoff


class _Tap(EventInbox):
    """The SDK's inbox, plus a hook: every server event also updates the local state.

    Messages are not kept in the inbox (the local history has them), so a long run
    does not grow two copies."""

    def __init__(self, hook: Callable[[str, Any], None]) -> None:
        super().__init__()
        self._hook = hook

    def push(self, name: str, payload: Any) -> None:
        self._hook(name, payload)
        if name != "messageReceived":
            super().push(name, payload)


class ResilientClient:
    """One device of one member that survives server crashes, database outages and drops.

    Build it from a logged-in :class:`InnerCircleClient` and the member's password
    (to log in again if the server stops accepting the token), then ``await start()``.
    """

    def __init__(
        self,
        api: InnerCircleClient,
        password: str,
        *,
        name: str | None = None,
        ack_timeout: float = 5.0,
        backoff: tuple[float, float] = (0.05, 1.0),
        seed: int | None = None,
    ) -> None:
        assert api.user is not None, "log in first"
        self.api = api
        self.password = password
        self.name = name or api.user.username
        self.ack_timeout = ack_timeout
        self.backoff = backoff
        self.cursor: str | None = None
        self._last_event = 0  # the id of the last sync event applied (events come in order)
        self.messages: dict[uuid.UUID, MessageOut] = {}
        self.chats: dict[uuid.UUID, ChatOut] = {}
        self.read: dict[Marker, int] = {}
        self.delivered: dict[Marker, int] = {}
        self.outbox: dict[str, Pending] = {}
        self.acked: dict[str, MessageOut] = {}
        self.stats = Stats()
        self._random = random.Random(seed)
        self._ready = asyncio.Event()
        self._lost = asyncio.Event()
        self._lost.set()
        self._changed = asyncio.Event()
        self._closing = False
        self._offline = False
        self._supervisor: asyncio.Task[None] | None = None
        api.inbox = _Tap(self._on_event)

    @property
    def user_id(self) -> uuid.UUID:
        return self.api.user_id

    @property
    def connected(self) -> bool:
        return self._ready.is_set()

    # --- lifecycle ------------------------------------------------------------------------

    async def start(self, timeout: float = 30) -> None:
        """Start the supervisor and wait for the first connect and catch-up."""
        if self._supervisor is None or self._supervisor.done():
            self._offline = False
            self._supervisor = asyncio.create_task(self._supervise(), name=f"sup-{self.name}")
        await self.wait_connected(timeout)

    async def go_offline(self, *, abrupt: bool = False) -> None:
        """Drop the connection and stay away until :meth:`start` (a phone in a tunnel).

        ``abrupt`` closes the WebSocket without the Socket.IO and Engine.IO goodbye, so
        the server learns of it only from the transport, as after a lost network.
        """
        self._offline = True
        supervisor, self._supervisor = self._supervisor, None
        if supervisor is not None:
            supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await supervisor
        self._ready.clear()
        self._lost.set()
        await self._drop_socket(abrupt=abrupt)

    async def drop(self, *, abrupt: bool = True) -> None:
        """Cut the connection once; the supervisor reconnects and catches up by itself."""
        sio = self.api.sio
        if sio is None:
            return
        if abrupt and sio.eio is not None and sio.eio.ws is not None:
            await sio.eio.ws.close()  # no Socket.IO or Engine.IO goodbye
        else:
            await sio.disconnect()

    async def close(self) -> None:
        self._closing = True
        await self.go_offline()

    async def wait_connected(self, timeout: float = 30) -> None:
        await asyncio.wait_for(self._ready.wait(), timeout)

    async def wait_until(self, predicate: Callable[[], bool], *, timeout: float = 30) -> None:
        """Wait until ``predicate()`` holds; it is checked after every change of local state."""

        async def _wait() -> None:
            while not predicate():
                self._changed.clear()
                await self._changed.wait()

        await asyncio.wait_for(_wait(), timeout)

    def _notify(self) -> None:
        self._changed.set()

    async def _supervise(self) -> None:
        failures = 0
        while not self._closing and not self._offline:
            lost = asyncio.Event()
            try:
                await self._open(lost)
                await self.catch_up(lost)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.stats.connect_failures += 1
                await self._drop_socket()
                if _refused_for_token(exc):
                    with contextlib.suppress(Exception):
                        await self.api.login(self.api.user.username, self.password)  # type: ignore[union-attr]
                failures += 1
                await asyncio.sleep(self._delay(failures))  # backoff before reconnecting
                continue
            failures = 0
            self.stats.connects += 1
            self._lost = lost
            self._ready.set()
            self._notify()
            await lost.wait()
            self._ready.clear()
            self.stats.disconnects += 1
            await self._drop_socket()

    async def _open(self, lost: asyncio.Event) -> None:
        await self.api.connect()
        sio = self.api.sio
        assert sio is not None
        sio.on("disconnect", lambda *_: lost.set())
        if not sio.connected:  # dropped before the handler was in place
            lost.set()

    async def _drop_socket(self, *, abrupt: bool = False) -> None:
        sio, self.api.sio = self.api.sio, None
        if sio is None:
            return
        with contextlib.suppress(Exception):
            if abrupt and sio.eio is not None and sio.eio.ws is not None:
                await sio.eio.ws.close()  # no Socket.IO or Engine.IO goodbye
            await sio.disconnect()

    def _delay(self, attempt: int) -> float:
        low, high = self.backoff
        return min(high, low * 2 ** min(attempt, 16)) * (0.5 + self._random.random() / 2)

    # --- calls ----------------------------------------------------------------------------

    async def _call(self, event: str, payload: Any, lost: asyncio.Event) -> dict[str, Any]:
        """Emit and await the ack, or give up as soon as the connection is lost.

        Raises ``_Retry`` for what a retry may fix, a typed SDK error otherwise.
        """
        sio = self.api.sio
        if sio is None or lost.is_set():
            # The supervisor reconnects, once it gets a turn: until then this connection is
            # not ready. Waiting for ``_ready`` again, rather than retrying at once, is what
            # gives it the turn (a retry that never awaits would spin the event loop).
            if lost is self._lost:
                self._ready.clear()
            raise _Retry(backoff=False)
        call = asyncio.ensure_future(sio.call(event, payload, timeout=self.ack_timeout))
        gone = asyncio.ensure_future(lost.wait())
        try:
            done, _ = await asyncio.wait({call, gone}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (call, gone):
                if not task.done():
                    task.cancel()
        if call not in done:
            raise _Retry(backoff=False)
        try:
            ack = call.result()
        except socketio.exceptions.TimeoutError:
            self.stats.ack_timeouts += 1
            raise _Retry(backoff=True) from None
        except (socketio.exceptions.SocketIOError, ConnectionError):
            raise _Retry(backoff=False) from None
        if isinstance(ack, dict) and ack.get("ok"):
            return ack
        error = ack.get("error", {}) if isinstance(ack, dict) else {}
        code = str(error.get("code", "INTERNAL"))
        self.stats.errors[code] += 1
        if code in RETRYABLE:
            raise _Retry(backoff=True)
        raise error_from(code, str(error.get("message", "")))

    async def _until_done(self, event: str, payload: Any) -> dict[str, Any]:
        """``_call`` until it succeeds: after a reconnect, or a backoff for error acks."""
        attempt = 0
        while True:
            await self._ready.wait()
            try:
                return await self._call(event, payload, self._lost)
            except _Retry as retry:
                attempt += 1
                if retry.backoff:
                    await asyncio.sleep(self._delay(attempt))  # backoff before retrying

    async def send(
        self, chat_id: uuid.UUID, content: str, *, client_message_id: str | None = None
    ) -> MessageOut:
        """Send until acknowledged; returns the stored message (the first, for a retry)."""
        cid = client_message_id or f"{self.name}-{uuid.uuid4().hex}"
        pending = self.outbox.setdefault(cid, Pending(cid, chat_id, content))
        self.stats.sent += 1
        payload = {"chatId": str(chat_id), "content": content, "clientMessageId": cid}
        while True:
            await self._ready.wait()
            pending.attempts += 1
            if pending.attempts > 1:
                self.stats.resends += 1
            try:
                ack = await self._call("sendMessage", payload, self._lost)
                break
            except InnerCircleAPIError:  # refused for good (not a member ...): not pending
                self.outbox.pop(cid, None)
                raise
            except _Retry as retry:
                if retry.backoff:
                    await asyncio.sleep(self._delay(pending.attempts))  # backoff before retrying
        message = MessageOut.model_validate(ack["message"])
        self.outbox.pop(cid, None)
        self.acked[cid] = message
        self.stats.acked += 1
        self._notify()
        return message

    async def mark_read(self, chat_id: uuid.UUID, seq: int) -> int:
        ack = await self._until_done("markRead", {"chatId": str(chat_id), "seq": seq})
        position = int(ack["lastReadSeq"])
        self._advance(self.read, (chat_id, self.user_id), position)
        self._advance(self.delivered, (chat_id, self.user_id), position)
        self._notify()
        return position

    async def mark_delivered(self, chat_id: uuid.UUID, seq: int) -> int:
        ack = await self._until_done("markDelivered", {"chatId": str(chat_id), "seq": seq})
        position = int(ack["seq"])
        self._advance(self.delivered, (chat_id, self.user_id), position)
        self._notify()
        return position

    # --- catching up ----------------------------------------------------------------------

    async def catch_up(self, lost: asyncio.Event | None = None) -> None:
        """Apply everything after the stored cursor (all pages); fresh start without one."""
        lost = lost or self._lost
        if self.cursor is None:
            await self._fresh_start(lost)
            return
        seen: set[uuid.UUID] = set()
        while True:
            try:
                page = SyncOut.model_validate(
                    await self._call("sync", {"since": self.cursor}, lost)
                )
            except _Retry as exc:
                raise ConnectionError("sync failed; reconnecting") from exc
            self.stats.syncs += 1
            if page.reset:
                self.cursor = None
                await self._fresh_start(lost)
                return
            last = self._last_event
            for event in page.events:
                fresh = event.message if event.type == "message" else None
                if event.id <= last or (fresh is not None and fresh.id in seen):
                    self.stats.sync_anomalies += 1
                last = event.id
                if fresh is not None:
                    seen.add(fresh.id)
                self._apply(event)
            self._last_event = last
            self.cursor = page.cursor
            self._notify()
            if not page.has_more:
                return

    async def _fresh_start(self, lost: asyncio.Event) -> None:
        try:
            page = SyncOut.model_validate(await self._call("sync", {}, lost))
        except _Retry as exc:
            raise ConnectionError("sync failed; reconnecting") from exc
        self.stats.fresh_starts += 1
        for chat in page.chats or []:
            self._take_chat(chat)
        for message in page.messages or []:
            self._add(message, live=False)
        for chat in page.chats or []:  # the fresh start has recent messages only
            after = 0
            while True:
                older = await self.api.history(chat.id, after=after, limit=200)
                for message in older:
                    self._add(message, live=False)
                if len(older) < 200:
                    break
                after = older[-1].seq
        self.cursor = page.cursor
        self._notify()

    def _apply(self, event: SyncEvent) -> None:
        if event.type in ("message", "messageUpdated") and event.message is not None:
            self._add(event.message, live=False)
        elif event.type == "chat" and event.chat is not None:
            self._take_chat(event.chat)
        elif event.type == "chatRemoved" and event.chat_id is not None:
            self.chats.pop(event.chat_id, None)
        elif event.type in ("read", "delivered") and event.chat_id and event.user_id:
            marker = (event.chat_id, event.user_id)
            position = event.seq or 0
            self._advance(self.delivered, marker, position)
            if event.type == "read":
                self._advance(self.read, marker, position)

    # --- local state ----------------------------------------------------------------------

    def _on_event(self, name: str, payload: Any) -> None:
        if name in ("messageReceived", "messageUpdated"):
            self._add(MessageOut.model_validate(payload), live=True)
        elif name in ("messagesRead", "messagesDelivered"):
            marker = (uuid.UUID(payload["chatId"]), uuid.UUID(payload["userId"]))
            self._advance(self.delivered, marker, int(payload["seq"]))
            if name == "messagesRead":
                self._advance(self.read, marker, int(payload["seq"]))
        elif name in ("chatCreated", "chatUpdated"):
            self._take_chat(ChatOut.model_validate(payload))
        elif name == "chatRemoved":
            self.chats.pop(uuid.UUID(payload["chatId"]), None)
        else:
            return
        self._notify()

    def _add(self, message: MessageOut, *, live: bool) -> None:
        held = self.messages.get(message.id)
        if held is None:
            if live:
                self.stats.live_messages += 1
            else:
                self.stats.synced_messages += 1
        if held is None or message.updated_at >= held.updated_at:  # edits: the newest wins
            self.messages[message.id] = message
        # Sending a message moves the sender's own read (and delivered) position to it.
        marker = (message.chat_id, message.sender_id)
        self._advance(self.read, marker, message.seq)
        self._advance(self.delivered, marker, message.seq)

    def _take_chat(self, chat: ChatOut) -> None:
        self.chats[chat.id] = chat
        for state in chat.read_states:
            marker = (chat.id, state.user_id)
            self._advance(self.read, marker, state.last_read_seq)
            self._advance(
                self.delivered, marker, max(state.last_delivered_seq, state.last_read_seq)
            )

    @staticmethod
    def _advance(positions: dict[Marker, int], marker: Marker, seq: int) -> None:
        if seq > positions.get(marker, 0):
            positions[marker] = seq

    def history(self, chat_id: uuid.UUID) -> list[MessageOut]:
        """The chat as this device holds it, ordered by ``seq``."""
        return sorted((m for m in self.messages.values() if m.chat_id == chat_id), key=_seq)

    def read_state(self, chat_id: uuid.UUID, members: Iterable[uuid.UUID]) -> dict[uuid.UUID, int]:
        return {member: self.read.get((chat_id, member), 0) for member in members}


def _seq(message: MessageOut) -> int:
    return message.seq


def _refused_for_token(exc: BaseException) -> bool:
    text = str(exc)
    return "TOKEN" in text or "UNAUTHENTICATED" in text
