"""An async Python client for Inner Circle: REST over httpx, real time over Socket.IO.

async with InnerCircleClient("http://127.0.0.1:3000") as client:
    await client.login("anna", "secret")
    chats = await client.chats()
    await client.connect()                       # Socket.IO, events land in client.inbox
    message = await client.send_message(chats[0].id, "Hello!")
    incoming = await client.inbox.wait_for("messageReceived")
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import time
import uuid
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
import socketio
from pydantic import BaseModel, TypeAdapter

from inner_circle.protocol.events import ClientEvent, ReactionsUpdated, ServerEvent
from inner_circle.protocol.rest import (
    AttachmentOut,
    ChatMediaPage,
    ChatOut,
    InviteOut,
    MessageOut,
    ReadStateOut,
    SearchPageOut,
    SyncEvent,
    SyncOut,
    TokenPair,
    UploadStatusOut,
    UserOut,
)
from inner_circle.sdk.errors import AckTimeout, InnerCircleAPIError, error_from
from inner_circle.sdk.events import EventInbox

__all__ = ["InnerCircleClient"]

M = TypeVar("M", bound=BaseModel)
_SERVER_EVENTS = ServerEvent.names()
TUS = {"Tus-Resumable": "1.0.0"}
OFFSET_STREAM = "application/offset+octet-stream"


def _read_chunk(path: Path, offset: int, size: int) -> bytes:
    with path.open("rb") as handle:
        handle.seek(offset)
        return handle.read(size)


class InnerCircleClient:
    """One member's session with a server: tokens, REST calls, and one Socket.IO connection."""

    def __init__(
        self,
        base_url: str,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = httpx.AsyncClient(base_url=self.base_url, transport=transport, timeout=timeout)
        self.access_token: str | None = None
        self.refresh_token: str | None = None
        self.user: UserOut | None = None
        self.sio: socketio.AsyncClient | None = None
        self.inbox = EventInbox()
        self.timeout = timeout
        self._expires_at = 0.0  # time.monotonic() when the access token expires
        self._ttl = 0.0
        self._tasks: set[asyncio.Task[None]] = set()
        self._renewer: asyncio.Task[None] | None = None
        self._connect_options: dict[str, Any] = {}

    async def __aenter__(self) -> InnerCircleClient:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    async def close(self) -> None:
        await self.disconnect()
        await self._http.aclose()

    # --- plumbing -------------------------------------------------------------------------

    async def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Any = None,
        headers: dict[str, str] | None = None,
        content: bytes | None = None,
    ) -> httpx.Response:
        """Call the API as this member; raise a typed error on an error answer."""
        sent = {"Authorization": f"Bearer {self.access_token}"} if self.access_token else {}
        sent.update(headers or {})
        response = await self._http.request(
            method, path, json=json, params=params, headers=sent, content=content
        )
        if response.status_code >= 400:
            try:
                body = response.json()
            except ValueError:
                body = {"code": "INTERNAL", "message": response.text}
            raise error_from(
                str(body.get("code", "INTERNAL")),
                str(body.get("message", "")),
                response.status_code,
                body,
            )
        return response

    async def _get(self, path: str, model: type[M], **params: Any) -> M:
        response = await self.request(
            "GET", path, params={k: v for k, v in params.items() if v is not None}
        )
        return model.model_validate(response.json())

    async def _list(self, path: str, model: type[M], **params: Any) -> list[M]:
        response = await self.request(
            "GET", path, params={k: v for k, v in params.items() if v is not None}
        )
        return TypeAdapter(list[model]).validate_python(response.json())  # type: ignore[valid-type]

    async def _post(self, path: str, model: type[M], body: Any = None, method: str = "POST") -> M:
        response = await self.request(method, path, json=body)
        return model.model_validate(response.json())

    # --- accounts and sessions ------------------------------------------------------------

    async def register(
        self, username: str, password: str, invitation_code: str, display_name: str | None = None
    ) -> UserOut:
        body = {"username": username, "password": password, "invitationCode": invitation_code}
        if display_name is not None:
            body["displayName"] = display_name
        return await self._post("/users/register", UserOut, body)

    async def login(self, username: str, password: str) -> TokenPair:
        pair = await self._post(
            "/auth/login", TokenPair, {"username": username, "password": password}
        )
        self._take(pair)
        return pair

    async def refresh(self) -> TokenPair:
        pair = await self._post("/auth/refresh", TokenPair, {"refresh_token": self.refresh_token})
        self._take(pair)
        return pair

    async def logout(self) -> None:
        if self.refresh_token:
            await self.request("POST", "/auth/logout", json={"refresh_token": self.refresh_token})
        self.access_token = self.refresh_token = None

    def _take(self, pair: TokenPair) -> None:
        self.access_token = pair.access_token
        self.refresh_token = pair.refresh_token
        self.user = pair.user
        self._ttl = float(pair.expires_in)
        self._expires_at = time.monotonic() + pair.expires_in

    @property
    def user_id(self) -> uuid.UUID:
        assert self.user is not None, "log in first"
        return self.user.id

    async def profile(self) -> UserOut:
        return await self._get("/users/profile", UserOut)

    async def update_profile(self, display_name: str) -> UserOut:
        return await self._post(
            "/users/profile", UserOut, {"displayName": display_name}, method="PATCH"
        )

    async def change_password(self, current: str, new: str) -> None:
        await self.request(
            "POST", "/users/profile/password", json={"currentPassword": current, "newPassword": new}
        )

    async def members(self, *, include_self: bool = False) -> list[UserOut]:
        return await self._list("/users", UserOut, include_self=include_self or None)

    async def member(self, user_id: uuid.UUID) -> UserOut:
        return await self._get(f"/users/{user_id}", UserOut)

    # --- admin ----------------------------------------------------------------------------

    async def create_invite(
        self,
        *,
        usage_limit: int = 1,
        expires_in_seconds: int | None = None,
        expires_at: datetime | None = None,
        is_admin: bool = False,
    ) -> InviteOut:
        body: dict[str, Any] = {"usageLimit": usage_limit, "isAdmin": is_admin}
        if expires_in_seconds is not None:
            body["expiresInSeconds"] = expires_in_seconds
        if expires_at is not None:
            body["expiresAt"] = expires_at.isoformat()
        return await self._post("/invitation-codes/generate", InviteOut, body)

    async def invites(self) -> list[InviteOut]:
        return await self._list("/invitation-codes", InviteOut)

    async def revoke_invite(self, invite_ref: str | uuid.UUID) -> InviteOut:
        return await self._post(f"/invitation-codes/{invite_ref}", InviteOut, method="DELETE")

    async def deactivate(self, user_id: uuid.UUID) -> UserOut:
        return await self._post(f"/users/{user_id}/deactivate", UserOut)

    async def reset_password(self, user_id: uuid.UUID, new_password: str) -> None:
        await self.request(
            "POST", f"/users/{user_id}/reset-password", json={"newPassword": new_password}
        )

    # --- chats and messages ---------------------------------------------------------------

    async def chats(self) -> list[ChatOut]:
        return await self._list("/chats", ChatOut)

    async def chat(self, chat_id: uuid.UUID) -> ChatOut:
        return await self._get(f"/chats/{chat_id}", ChatOut)

    async def family_chat(self) -> ChatOut:
        return next(chat for chat in await self.chats() if chat.type == "family")

    async def private_chat(self, user_id: uuid.UUID) -> ChatOut:
        return await self._post("/chats/private", ChatOut, {"targetUserId": str(user_id)})

    async def create_group(
        self,
        name: str,
        member_ids: list[uuid.UUID],
        *,
        new_members_see_history: bool | None = None,
    ) -> ChatOut:
        """A group; ``new_members_see_history=False``: members added later see only what
        is sent after they join (the server's default is the whole history)."""
        body: dict[str, Any] = {"name": name, "participantIds": [str(m) for m in member_ids]}
        if new_members_see_history is not None:
            body["newMembersSeeHistory"] = new_members_see_history
        return await self._post("/chats", ChatOut, body)

    async def rename_chat(self, chat_id: uuid.UUID, name: str) -> ChatOut:
        return await self._post(f"/chats/{chat_id}", ChatOut, {"name": name}, method="PATCH")

    async def add_members(self, chat_id: uuid.UUID, user_ids: list[uuid.UUID]) -> ChatOut:
        return await self._post(
            f"/chats/{chat_id}/participants", ChatOut, {"userIds": [str(u) for u in user_ids]}
        )

    async def delete_chat(self, chat_id: uuid.UUID) -> str:
        """The seed's chat deletion: hide a private chat from my list, or leave a group."""
        response = await self.request("DELETE", f"/chats/{chat_id}")
        return str(response.json()["message"])

    async def save_fcm_token(self, fcm_token: str) -> None:
        """Register this session's device for push notifications."""
        await self.request("POST", "/users/fcm-token", json={"fcmToken": fcm_token})

    async def remove_member(self, chat_id: uuid.UUID, user_id: uuid.UUID) -> ChatOut | None:
        response = await self.request("DELETE", f"/chats/{chat_id}/participants/{user_id}")
        return None if response.status_code == 204 else ChatOut.model_validate(response.json())

    async def history(
        self,
        chat_id: uuid.UUID,
        *,
        limit: int | None = None,
        before: int | None = None,
        after: int | None = None,
        offset: int | None = None,
        around: int | None = None,
    ) -> list[MessageOut]:
        return await self._list(
            f"/messages/{chat_id}",
            MessageOut,
            limit=limit,
            before=before,
            after=after,
            offset=offset,
            around=around,
        )

    async def post_message(
        self,
        chat_id: uuid.UUID,
        content: str = "",
        client_message_id: str | None = None,
        *,
        attachment_ids: Sequence[uuid.UUID] = (),
        reply_to: uuid.UUID | None = None,
    ) -> MessageOut:
        body: dict[str, Any] = {"content": content}
        if client_message_id is not None:
            body["clientMessageId"] = client_message_id
        if attachment_ids:
            body["attachmentIds"] = [str(i) for i in attachment_ids]
        if reply_to is not None:
            body["replyToId"] = str(reply_to)
        return await self._post(f"/messages/{chat_id}", MessageOut, body)

    # --- media (docs/media.md) ----------------------------------------------------------

    async def upload_file(
        self,
        source: Path | str | bytes,
        *,
        name: str | None = None,
        kind: str | None = None,
        duration_ms: int | None = None,
        waveform: Sequence[int] | None = None,
        chunk_size: int = 4 * 1024 * 1024,
        wait: bool = True,
        timeout: float = 60.0,
    ) -> UploadStatusOut:
        """Upload a file with tus (in chunks, read from disk one chunk at a time); with
        ``wait``, until processing ended (``ready`` or ``failed``). Its ``id`` goes into
        ``attachment_ids`` of a message."""
        if isinstance(source, bytes):
            size, label = len(source), name or "file"
        else:
            path = Path(source)
            size, label = (await asyncio.to_thread(path.stat)).st_size, name or path.name
        meta = {"filename": label, "kind": kind, "durationMs": duration_ms}
        if waveform is not None:
            meta["waveform"] = ",".join(str(v) for v in waveform)
        encoded = ",".join(
            f"{k} {base64.b64encode(str(v).encode()).decode()}" for k, v in meta.items() if v
        )
        created = await self.request(
            "POST",
            "/uploads",
            headers={**TUS, "Upload-Length": str(size), "Upload-Metadata": encoded},
        )
        status = UploadStatusOut.model_validate(created.json())
        offset = 0
        while offset < size:
            if isinstance(source, bytes):
                chunk = source[offset : offset + chunk_size]
            else:
                chunk = await asyncio.to_thread(_read_chunk, Path(source), offset, chunk_size)
            answer = await self.request(
                "PATCH",
                f"/uploads/{status.id}",
                headers={**TUS, "Upload-Offset": str(offset), "Content-Type": OFFSET_STREAM},
                content=chunk,
            )
            offset = int(answer.headers["Upload-Offset"])
        return await self.upload_status(status.id, wait=wait, timeout=timeout)

    async def upload_status(
        self, upload_id: uuid.UUID, *, wait: bool = False, timeout: float = 60.0
    ) -> UploadStatusOut:
        """An upload's state; with ``wait``, polled until processing ended."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            status = await self._get(f"/uploads/{upload_id}", UploadStatusOut)
            if not wait or status.status in ("ready", "failed"):
                return status
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"upload {upload_id} still {status.status}")
            await asyncio.sleep(0.05)  # the API is polled: processing has no event

    async def attachment(self, attachment_id: uuid.UUID) -> AttachmentOut:
        """A file of a message with fresh download URLs."""
        return await self._get(f"/attachments/{attachment_id}", AttachmentOut)

    async def chat_media(
        self,
        chat_id: uuid.UUID,
        *,
        kind: Sequence[str] = (),
        before: str | None = None,
        limit: int | None = None,
    ) -> ChatMediaPage:
        params: dict[str, Any] = {"kind": list(kind), "before": before, "limit": limit}
        response = await self.request(
            "GET",
            f"/chats/{chat_id}/media",
            params={k: v for k, v in params.items() if v not in (None, [])},
        )
        return ChatMediaPage.model_validate(response.json())

    async def download(self, url: str, *, headers: dict[str, str] | None = None) -> httpx.Response:
        """GET a signed download URL (no token is sent: the URL is the grant)."""
        return await self._http.get(url, headers=headers or {})

    # --- rich messaging (ADR 14) ----------------------------------------------------------

    async def react(
        self, chat_id: uuid.UUID, message_id: uuid.UUID, emoji: str
    ) -> ReactionsUpdated:
        """Put my ``emoji`` on a message (idempotent); the message's reactions now."""
        path = f"/messages/{chat_id}/{message_id}/reactions/{quote(emoji, safe='')}"
        return await self._post(path, ReactionsUpdated, method="PUT")

    async def unreact(
        self, chat_id: uuid.UUID, message_id: uuid.UUID, emoji: str
    ) -> ReactionsUpdated:
        path = f"/messages/{chat_id}/{message_id}/reactions/{quote(emoji, safe='')}"
        return await self._post(path, ReactionsUpdated, method="DELETE")

    async def pin(self, chat_id: uuid.UUID, message_id: uuid.UUID) -> MessageOut:
        return await self._post(f"/messages/{chat_id}/{message_id}/pin", MessageOut)

    async def unpin(self, chat_id: uuid.UUID, message_id: uuid.UUID) -> MessageOut:
        return await self._post(
            f"/messages/{chat_id}/{message_id}/pin", MessageOut, method="DELETE"
        )

    async def pins(self, chat_id: uuid.UUID) -> list[MessageOut]:
        return await self._list(f"/chats/{chat_id}/pins", MessageOut)

    async def forward(
        self, message_ids: list[uuid.UUID], to_chat_ids: list[uuid.UUID]
    ) -> list[MessageOut]:
        """Copy messages into other chats; the new messages."""
        body = {
            "messageIds": [str(m) for m in message_ids],
            "toChatIds": [str(c) for c in to_chat_ids],
        }
        response = await self.request("POST", "/messages/forward", json=body)
        return TypeAdapter(list[MessageOut]).validate_python(response.json())

    async def sync(self, since: str | int | None = None, *, limit: int | None = None) -> SyncOut:
        """Everything missed after cursor ``since`` (one page); without it, a fresh start."""
        return await self._get("/sync", SyncOut, since=since, limit=limit)

    async def sync_all(self, since: str) -> tuple[list[SyncEvent], str]:
        """Follow ``hasMore`` to the end: every event after ``since`` and the final cursor."""
        events: list[SyncEvent] = []
        while True:
            page = await self.sync(since)
            events.extend(page.events)
            since = page.cursor
            if not page.has_more:
                return events, since

    async def edit_message(
        self, chat_id: uuid.UUID, message_id: uuid.UUID, content: str
    ) -> MessageOut:
        return await self._post(
            f"/messages/{chat_id}/{message_id}", MessageOut, {"content": content}, method="PATCH"
        )

    async def delete_message(self, chat_id: uuid.UUID, message_id: uuid.UUID) -> MessageOut:
        return await self._post(f"/messages/{chat_id}/{message_id}", MessageOut, method="DELETE")

    async def mark_read_rest(self, chat_id: uuid.UUID, seq: int) -> ReadStateOut:
        return await self._post(f"/chats/{chat_id}/read", ReadStateOut, {"seq": seq})

    async def search(
        self,
        q: str,
        chat_id: uuid.UUID | None = None,
        sender_id: uuid.UUID | None = None,
        before: str | None = None,
        *,
        has: str | None = None,
        limit: int | None = None,
    ) -> SearchPageOut:
        """Messages holding every word of ``q`` in any form, newest first; pass the
        page's ``next_before`` as ``before`` for older ones."""
        return await self._get(
            "/search",
            SearchPageOut,
            q=q,
            chatId=chat_id,
            senderId=sender_id,
            before=before,
            has=has,
            limit=limit,
        )

    # --- real time ------------------------------------------------------------------------

    async def connect(
        self,
        *,
        use_header: bool = False,
        transports: list[str] | None = None,
        renew: bool = True,
        reconnect: bool = True,
    ) -> None:
        """Open the Socket.IO connection; every server event is recorded in ``inbox``.

        ``use_header`` sends the token as the Flutter client does (Authorization header)
        instead of the browser way (``auth: {token}``).

        The server closes a connection when its access token expires. With ``renew``
        the client refreshes its tokens before then and hands the new access token to
        the connection (``reauth``); with ``reconnect``, a connection the server closed
        because its token expired is opened again with refreshed tokens (an ``error``
        with ``event: "session"`` comes first). When the session itself has ended
        (logout, a password reset, deactivation) the refresh fails and nothing reopens.
        A reopened connection is announced in ``inbox`` as ``reconnected``.
        """
        assert self.access_token, "log in first"
        self._connect_options = {
            "use_header": use_header,
            "transports": transports,
            "renew": renew,
            "reconnect": reconnect,
        }
        self.sio = socketio.AsyncClient(reconnection=False)
        for name in _SERVER_EVENTS:
            self.sio.on(name, self._recorder(name))
        headers = {"Authorization": f"Bearer {self.access_token}"} if use_header else None
        auth = None if use_header else {"token": self.access_token}
        await self.sio.connect(
            self.base_url,
            headers=headers or {},
            auth=auth,
            transports=transports or ["websocket"],
            wait_timeout=self.timeout,
        )
        if renew and self._renewer is None:
            self._renewer = asyncio.create_task(self._keep_fresh())

    async def reauth(self) -> dict[str, Any]:
        """Refresh the tokens and give the live connection the new access token (``reauth``)."""
        await self.refresh()
        return await self.call(ClientEvent.REAUTH, {"token": self.access_token})

    async def _keep_fresh(self) -> None:
        """Reauth when half the token's life (at most a minute before its end) is left."""
        while self.sio is not None:
            margin = min(60.0, self._ttl / 2)
            await asyncio.sleep(max(0.5, self._expires_at - time.monotonic() - margin))
            if self.sio is None or not self.sio.connected:
                continue  # closed or reopening; the new connection has a fresh token
            try:
                await self.reauth()
            except InnerCircleAPIError:
                return  # the session has ended: the server closes the connection
            except (AckTimeout, socketio.exceptions.SocketIOError):
                continue

    def _recorder(self, name: str) -> Any:
        async def record(*args: Any) -> None:
            payload = args[0] if len(args) == 1 else list(args)
            self.inbox.push(name, payload)
            if (
                name == ServerEvent.ERROR
                and isinstance(payload, dict)
                and payload.get("event") == "session"
            ):
                self._spawn(self._reopen(self.sio))

        return record

    async def _reopen(self, closing: socketio.AsyncClient | None) -> None:
        """The server ended the connection's grant: reopen it if a refresh still works."""
        if not self._connect_options.get("reconnect") or closing is None:
            return
        await closing.wait()  # the server closes it right after the error
        if self.sio is not closing:
            return  # closed by the caller, or reopened already
        try:
            await self.refresh()
        except InnerCircleAPIError:
            return  # the session ended: stay closed
        options = {k: v for k, v in self._connect_options.items() if k != "renew"}
        await self.connect(**options, renew=self._renewer is not None)
        self.inbox.push("reconnected", {"userId": str(self.user_id)})

    def _spawn(self, work: Any) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def disconnect(self) -> None:
        if self._renewer is not None:
            self._renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._renewer
            self._renewer = None
        for task in list(self._tasks):
            task.cancel()
        if self.sio is not None:
            await self.sio.disconnect()
            self.sio = None

    async def call(
        self, event: str, payload: Any = None, *, timeout: float | None = None
    ) -> dict[str, Any]:
        """Emit ``event`` and wait for its acknowledgement; raise a typed error on ``ok: false``."""
        assert self.sio is not None, "connect first"
        try:
            ack = await self.sio.call(event, payload, timeout=timeout or self.timeout)
        except socketio.exceptions.TimeoutError as exc:
            raise AckTimeout(event) from exc
        if not isinstance(ack, dict) or not ack.get("ok"):
            error = (ack or {}).get("error", {}) if isinstance(ack, dict) else {}
            raise error_from(str(error.get("code", "INTERNAL")), str(error.get("message", "")))
        return ack

    async def send_message(
        self,
        chat_id: uuid.UUID,
        content: str = "",
        client_message_id: str | None = None,
        *,
        attachment_ids: Sequence[uuid.UUID] = (),
        reply_to: uuid.UUID | None = None,
    ) -> MessageOut:
        """Send over Socket.IO; returns once the server has stored the message."""
        payload: dict[str, Any] = {
            "chatId": str(chat_id),
            "content": content,
            "clientMessageId": client_message_id or str(uuid.uuid4()),
        }
        if attachment_ids:
            payload["attachmentIds"] = [str(i) for i in attachment_ids]
        if reply_to is not None:
            payload["replyToId"] = str(reply_to)
        ack = await self.call(ClientEvent.SEND_MESSAGE, payload)
        return MessageOut.model_validate(ack["message"])

    async def get_messages(self, chat_id: uuid.UUID, **query: Any) -> list[MessageOut]:
        ack = await self.call(ClientEvent.GET_MESSAGES, {"chatId": str(chat_id), **query})
        return TypeAdapter(list[MessageOut]).validate_python(ack["messages"])

    async def typing(self, chat_id: uuid.UUID, is_typing: bool = True) -> None:
        await self.call(ClientEvent.TYPING, {"chatId": str(chat_id), "isTyping": is_typing})

    async def mark_all_read(self, chat_id: uuid.UUID) -> dict[str, Any]:
        """The seed's ``markAsRead``: the whole chat, up to its newest message."""
        return await self.call(ClientEvent.MARK_AS_READ, {"chatId": str(chat_id)})

    async def mark_read(self, chat_id: uuid.UUID, seq: int) -> dict[str, Any]:
        return await self.call(ClientEvent.MARK_READ, {"chatId": str(chat_id), "seq": seq})

    async def mark_delivered(self, chat_id: uuid.UUID, seq: int) -> dict[str, Any]:
        return await self.call(ClientEvent.MARK_DELIVERED, {"chatId": str(chat_id), "seq": seq})
