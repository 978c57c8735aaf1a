"""Who may call what: every REST operation and every Socket.IO event, as five kinds of caller.

The tables below must cover the live server's OpenAPI schema and the namespace's
``on_<event>`` handlers, so a new endpoint or event without a row fails here.
For every refusal the test also checks that nothing changed in the database and
that the private chat's secret text did not leak into the answer.
"""

from __future__ import annotations

import base64
import hashlib
import os
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import socketio
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlalchemy import select

from inner_circle.sdk import InnerCircleClient
from inner_circle.server.db.models import Base
from inner_circle.server.socket.calls import CallsNamespace
from inner_circle.server.socket.visibility import VisibilityNamespace
from tests.calls.support import CallSocket
from tests.support import PASSWORD, Family

ROLES = ("anonymous", "member", "outsider", "deactivated", "admin")
SECRET = "top secret between anna and ben"
# Columns that change by merely being online; everything else must stay as it was.
VOLATILE = {"lastSeenAt"}


@dataclass
class World:
    """anna and ben share a private chat and a group; carl is a member outside them;
    dave is an admin outside them; eve was deactivated (her old tokens are kept)."""

    family: Family
    anna: InnerCircleClient
    ben: InnerCircleClient
    carl: InnerCircleClient
    dave: InnerCircleClient
    eve_access: str
    eve_refresh: str
    private_id: uuid.UUID
    group_id: uuid.UUID
    message_id: uuid.UUID
    caller: dict[str, InnerCircleClient | None] = field(default_factory=dict)

    def token(self, role: str) -> str | None:
        if role == "anonymous":
            return None
        if role == "deactivated":
            return self.eve_access
        client = self.caller[role]
        assert client is not None
        return client.access_token

    async def throwaway(self) -> InnerCircleClient:
        return await self.family.member()

    async def fresh_message(self) -> uuid.UUID:
        return (await self.anna.post_message(self.private_id, "to be deleted")).id

    async def fresh_invite(self) -> str:
        return (await self.dave.create_invite()).code

    async def free(self, member: InnerCircleClient) -> None:
        """Hang up the member's live calls, so they can be called again."""
        for call in (await _rest(self, "GET", "/calls/active", member)).json():
            await _rest(self, "POST", f"/calls/{call['id']}/end", member)

    async def fresh_call(self) -> str:
        """A call ringing for anna, from a member made for it."""
        await self.free(self.anna)
        caller = await self.throwaway()
        body = {"targetUserId": str(self.anna.user_id), "type": "audio"}
        response = await _rest(self, "POST", "/calls/initiate", caller, json=body)
        assert response.status_code == 201 and response.json()["status"] == "ringing"
        return str(response.json()["id"])

    async def group_call(self) -> str:
        """A group call ringing in anna and ben's group, started by ben."""
        await self.free(self.ben)
        await self.free(self.anna)
        body = {"chatId": str(self.group_id), "type": "video"}
        response = await _rest(self, "POST", "/calls/initiate", self.ben, json=body)
        assert response.status_code == 201, response.text
        return str(response.json()["id"])


async def _rest(
    w: World, method: str, path: str, member: InnerCircleClient, **kwargs: Any
) -> httpx.Response:
    async with httpx.AsyncClient(base_url=w.family.url) as http:
        headers = {"Authorization": f"Bearer {member.access_token}"}
        return await http.request(method, path, headers=headers, **kwargs)


async def build_world(family: Family) -> World:
    anna = await family.member("anna")
    ben = await family.member("ben")
    carl = await family.member("carl")
    dave = await family.member("dave", admin=True)
    eve = await family.member("eve")
    private = await anna.private_chat(ben.user_id)
    message = await anna.post_message(private.id, SECRET)
    group = await anna.create_group("Secret group of anna and ben", [ben.user_id])
    assert eve.access_token and eve.refresh_token
    world = World(
        family, anna, ben, carl, dave, eve.access_token, eve.refresh_token,
        private.id, group.id, message.id,
    )  # fmt: skip
    await dave.deactivate(eve.user_id)
    world.caller = {"anonymous": None, "member": anna, "outsider": carl, "admin": dave}
    return world


async def fingerprint(family: Family) -> str:
    """A digest of every row of every table (but last-seen times)."""

    async def dump(uow: Any) -> str:
        digest = hashlib.sha256()
        for table in Base.metadata.sorted_tables:
            rows = await uow.session.execute(select(table).order_by(*table.primary_key.columns))
            for row in rows:
                items = sorted((k, repr(v)) for k, v in row._mapping.items() if k not in VOLATILE)
                digest.update(repr((table.name, items)).encode())
        return digest.hexdigest()

    return str(await family.operator(dump))


# --- REST --------------------------------------------------------------------------------

Call = tuple[str, str, Any, str | None]  # method, path, JSON body, token override
Builder = Callable[[World, str], Awaitable[Call]]
OK = (200, 201, 204)
AUTH = {"anonymous": 401, "deactivated": 401}


def same(path: str, body: Any = None, method: str = "GET") -> Builder:
    async def build(w: World, role: str) -> Call:
        return method, path.format(w=w), body, None

    return build


async def login_as(w: World, role: str) -> Call:
    name = {"anonymous": "nobody", "deactivated": "eve", "member": "anna"}.get(role)
    name = name or {"outsider": "carl", "admin": "dave"}[role]
    return "POST", "/auth/login", {"username": name, "password": PASSWORD}, None


async def refresh_as(w: World, role: str) -> Call:
    if role == "anonymous":
        return "POST", "/auth/refresh", {"refresh_token": "not-a-token"}, None
    if role == "deactivated":
        return "POST", "/auth/refresh", {"refresh_token": w.eve_refresh}, None
    session = w.family.client()  # a new session of the same member, so others keep theirs
    client = w.caller[role]
    assert client is not None and client.user is not None
    await session.login(client.user.username, PASSWORD)
    return "POST", "/auth/refresh", {"refresh_token": session.refresh_token}, None


async def logout_as(w: World, role: str) -> Call:
    method, _, body, _ = await refresh_as(w, role)
    return method, "/auth/logout", body, None


async def register_as(w: World, role: str) -> Call:
    body = {
        "username": f"new{uuid.uuid4().hex[:8]}",
        "password": PASSWORD,
        "invitationCode": await w.family.invite(),
    }
    return "POST", "/users/register", body, None


async def change_password_as(w: World, role: str) -> Call:
    body = {"currentPassword": PASSWORD, "newPassword": "another-password-1"}
    if role in ("member", "outsider", "admin"):
        mine = await w.throwaway()  # ends that member's sessions: not one the test reuses
        return "POST", "/users/profile/password", body, mine.access_token
    return "POST", "/users/profile/password", body, None


def on_throwaway(path: str, body: Any = None) -> Builder:
    async def build(w: World, role: str) -> Call:
        target = await w.throwaway() if role == "admin" else w.ben
        return "POST", path.format(user_id=target.user_id), body, None

    return build


async def add_participant(w: World, role: str) -> Call:
    other = (await w.throwaway()).user_id if role == "member" else w.carl.user_id
    return "POST", f"/chats/{w.group_id}/participants", {"userIds": [str(other)]}, None


async def remove_participant(w: World, role: str) -> Call:
    if role == "member":
        other = await w.throwaway()
        group = await w.anna.create_group("Short-lived", [other.user_id])
        return "DELETE", f"/chats/{group.id}/participants/{other.user_id}", None, None
    return "DELETE", f"/chats/{w.group_id}/participants/{w.ben.user_id}", None, None


async def delete_chat(w: World, role: str) -> Call:
    if role == "member":  # a private chat of its own, so the others stay in anna's list
        other = await w.throwaway()
        chat = await w.anna.private_chat(other.user_id)
        return "DELETE", f"/chats/{chat.id}", None, None
    return "DELETE", f"/chats/{w.private_id}", None, None


async def delete_message(w: World, role: str) -> Call:
    target = await w.fresh_message() if role == "member" else w.message_id
    return "DELETE", f"/messages/{w.private_id}/{target}", None, None


async def revoke_invite(w: World, role: str) -> Call:
    return "DELETE", f"/invitation-codes/{await w.fresh_invite()}", None, None


def on_call(method: str, path: str, body: Any = None) -> Builder:
    """A route on a fresh call ringing for anna (``{call}`` in the path or body)."""

    async def build(w: World, role: str) -> Call:
        call = await w.fresh_call()
        filled = {k: v.replace("{call}", call) for k, v in body.items()} if body else None
        return method, path.replace("{call}", call), filled, None

    return build


async def initiate_as(w: World, role: str) -> Call:
    if role == "member":
        await w.free(w.anna)
    target = await w.throwaway()
    return "POST", "/calls/initiate", {"targetUserId": str(target.user_id), "type": "video"}, None


def expect(
    member: int | tuple[int, ...],
    outsider: int | tuple[int, ...] | None = None,
    admin: int | tuple[int, ...] | None = None,
    *,
    public: bool = False,
) -> dict[str, tuple[int, ...]]:
    def norm(v: int | tuple[int, ...]) -> tuple[int, ...]:
        return v if isinstance(v, tuple) else (v,)

    table = {
        "member": norm(member),
        "outsider": norm(member if outsider is None else outsider),
        "admin": norm(member if admin is None else admin),
    }
    if not public:
        table.update({role: (status,) for role, status in AUTH.items()})
    return table


PRIVATE = "{w.private_id}"


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


PUSH_ENDPOINT = "https://push.example.net/send/matrix"
PUSH_SUBSCRIPTION = {
    "endpoint": PUSH_ENDPOINT,
    "keys": {
        "p256dh": _b64url(
            ec.generate_private_key(ec.SECP256R1())
            .public_key()
            .public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
        ),
        "auth": _b64url(os.urandom(16)),
    },
}
REST: dict[str, tuple[Builder, dict[str, tuple[int, ...]]]] = {
    "POST /auth/login": (login_as, {**expect(200), "anonymous": (401,), "deactivated": (403,)}),
    "POST /auth/refresh": (refresh_as, {**expect(200), "anonymous": (401,), "deactivated": (401, 403)}),
    "POST /auth/logout": (logout_as, expect(204, public=True) | {"anonymous": (204,), "deactivated": (204,)}),
    "POST /users/register": (register_as, {role: (201,) for role in ROLES}),
    "GET /users/profile": (same("/users/profile"), expect(200)),
    "PATCH /users/profile": (same("/users/profile", {"displayName": "Renamed"}, "PATCH"), expect(200)),
    "POST /users/profile/password": (change_password_as, expect(204)),
    "GET /users": (same("/users"), expect(200)),
    "POST /users/fcm-token": (same("/users/fcm-token", {"fcmToken": "device-1"}, "POST"), expect(200)),
    "GET /users/{user_id}": (same("/users/{w.ben.user_id}"), expect(200)),
    "POST /users/{user_id}/deactivate": (on_throwaway("/users/{user_id}/deactivate"), expect(403, 403, 200)),
    "POST /users/{user_id}/reset-password": (
        on_throwaway("/users/{user_id}/reset-password", {"newPassword": "reset-password-1"}),
        expect(403, 403, 204),
    ),
    "GET /chats": (same("/chats"), expect(200)),
    "POST /chats": (same("/chats", {"name": "New group", "participantIds": []}, "POST"), expect(201)),
    "POST /chats/private": (
        same("/chats/private", {"targetUserId": "{w.ben.user_id}"}, "POST"), expect((200, 201))
    ),
    "GET /chats/{chat_id}": (same("/chats/" + PRIVATE), expect(200, 404, 404)),
    "DELETE /chats/{chat_id}": (delete_chat, expect(200, 404, 404)),
    "PATCH /chats/{chat_id}": (
        same("/chats/{w.group_id}", {"name": "Renamed group"}, "PATCH"), expect(200, 404, 404)
    ),
    "POST /chats/{chat_id}/participants": (add_participant, expect(200, 404, 404)),
    "DELETE /chats/{chat_id}/participants/{user_id}": (remove_participant, expect(200, 404, 404)),
    "POST /chats/{chat_id}/read": (same(f"/chats/{PRIVATE}/read", {"seq": 1}, "POST"), expect(200, 404, 404)),
    "GET /messages/{chat_id}": (same("/messages/" + PRIVATE), expect(200, 404, 404)),
    "POST /messages/{chat_id}": (same("/messages/" + PRIVATE, {"content": "hi"}, "POST"), expect(201, 404, 404)),
    "PATCH /messages/{chat_id}/{message_id}": (
        same(f"/messages/{PRIVATE}/{{w.message_id}}", {"content": "edited"}, "PATCH"),
        expect(200, 404, 404),
    ),
    "DELETE /messages/{chat_id}/{message_id}": (delete_message, expect(200, 404, 404)),
    "POST /invitation-codes/generate": (same("/invitation-codes/generate", {}, "POST"), expect(403, 403, 201)),
    "GET /invitation-codes": (same("/invitation-codes"), expect(403, 403, 200)),
    "DELETE /invitation-codes/{invite_ref}": (revoke_invite, expect(403, 403, 200)),
    "GET /sync": (same("/sync"), expect(200)),
    "GET /push/config": (same("/push/config"), {role: (200,) for role in ROLES}),
    "POST /push/subscriptions": (same("/push/subscriptions", PUSH_SUBSCRIPTION, "POST"), expect(201)),
    "DELETE /push/subscriptions": (same("/push/subscriptions", {"endpoint": PUSH_ENDPOINT}, "DELETE"), expect(204)),
    "GET /push/subscriptions": (same("/push/subscriptions"), expect(200)),
    "GET /push/preferences": (same("/push/preferences"), expect(200)),
    "PUT /push/preferences": (same("/push/preferences", {"showText": False}, "PUT"), expect(200)),
    "PUT /chats/{chat_id}/mute": (same(f"/chats/{PRIVATE}/mute", {"duration": "1h"}, "PUT"), expect(200, 404, 404)),
    "POST /calls/initiate": (initiate_as, expect(201)),
    "GET /calls/webrtc-config": (same("/calls/webrtc-config"), expect(200)),
    "GET /calls/history": (same("/calls/history"), expect(200)),
    "GET /calls/active": (same("/calls/active"), expect(200)),
    "GET /calls/{call_id}": (on_call("GET", "/calls/{call}"), expect(200, 404, 404)),
    "POST /calls/{call_id}/end": (on_call("POST", "/calls/{call}/end"), expect(200, 404, 404)),
    "DELETE /calls/{call_id}": (on_call("DELETE", "/calls/{call}"), expect(200, 404, 404)),
    "POST /calls/respond": (
        on_call("POST", "/calls/respond", {"callId": "{call}", "action": "accept"}), expect(200, 404, 404)
    ),
    # The native decline button has no token: the unguessable id is the credential.
    "POST /calls/public/respond": (
        on_call("POST", "/calls/public/respond", {"callId": "{call}", "action": "reject"}),
        {role: (200,) for role in ROLES},
    ),
    "GET /healthz": (same("/healthz"), {role: (200,) for role in ROLES}),
    "GET /readyz": (same("/readyz"), {role: (200,) for role in ROLES}),
}  # fmt: skip


def _format(value: Any, w: World) -> Any:
    if isinstance(value, str):
        return value.format(w=w)
    if isinstance(value, dict):
        return {k: _format(v, w) for k, v in value.items()}
    if isinstance(value, list):
        return [_format(v, w) for v in value]
    return value


async def test_the_rest_table_covers_every_operation(family: Family) -> None:
    async with httpx.AsyncClient(base_url=family.url) as http:
        schema = (await http.get("/openapi.json")).json()
    operations = {
        f"{method.upper()} {path}" for path, item in schema["paths"].items() for method in item
    }
    assert operations == set(REST), (
        f"missing rows: {sorted(operations - set(REST))}; stale rows: {sorted(set(REST) - operations)}"
    )


@pytest.mark.parametrize("role", ROLES)
async def test_rest_authorization(family: Family, role: str) -> None:
    w = await build_world(family)
    wrong: list[str] = []
    async with httpx.AsyncClient(base_url=family.url) as http:
        # Refusals first, each checked for "nothing changed"; then what is allowed.
        ordered = sorted(REST.items(), key=lambda item: min(item[1][1][role]) < 400)
        for operation, (build, expected) in ordered:
            method, path, body, override = await build(w, role)
            token = override or w.token(role)
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            refused = min(expected[role]) >= 400
            before = await fingerprint(family) if refused else None
            response = await http.request(method, path, json=_format(body, w), headers=headers)
            if response.status_code not in expected[role]:
                wrong.append(f"{operation} as {role}: {response.status_code} {response.text[:200]}")
                continue
            if refused:
                assert response.json()["code"], operation
                if await fingerprint(family) != before:
                    wrong.append(f"{operation} as {role}: refused but changed the database")
            if role != "member" and SECRET in response.text:
                wrong.append(f"{operation} as {role}: leaked the private chat's text")
    assert not wrong, "\n".join(wrong)


async def test_only_the_sender_may_edit_a_message(family: Family) -> None:
    w = await build_world(family)
    async with httpx.AsyncClient(base_url=family.url) as http:
        before = await fingerprint(family)
        response = await http.patch(
            f"/messages/{w.private_id}/{w.message_id}",
            json={"content": "ben rewrites anna"},
            headers={"Authorization": f"Bearer {w.ben.access_token}"},
        )
    assert response.status_code == 403
    assert await fingerprint(family) == before


# --- Socket.IO ---------------------------------------------------------------------------

SocketBuilder = Callable[[World, str], Awaitable[Any]]


def payload(data: Any) -> SocketBuilder:
    async def build(w: World, role: str) -> Any:
        return _format(data, w)

    return build


async def delete_payload(w: World, role: str) -> Any:
    target = await w.fresh_message() if role == "member" else w.message_id
    return {"chatId": str(w.private_id), "messageId": str(target)}


async def reauth_payload(w: World, role: str) -> Any:
    return {"token": w.token(role)}  # the caller's own token: every member may renew


CHAT = {"chatId": PRIVATE}
SOCKET: dict[str, tuple[SocketBuilder, dict[str, str | None]]] = {
    # role -> None when allowed, else the error code of the refusal
    "sendMessage": (payload({**CHAT, "content": "hello"}), {"outsider": "NOT_FOUND", "admin": "NOT_FOUND"}),
    "getMessages": (payload(CHAT), {"outsider": "NOT_FOUND", "admin": "NOT_FOUND"}),
    "getChats": (payload({}), {}),
    "createChat": (payload({"name": "Socket group", "participantIds": ["{w.ben.user_id}"]}), {}),
    "typing": (payload({**CHAT, "isTyping": True}), {"outsider": "NOT_FOUND", "admin": "NOT_FOUND"}),
    "markRead": (payload({**CHAT, "seq": 1}), {"outsider": "NOT_FOUND", "admin": "NOT_FOUND"}),
    "markDelivered": (payload({**CHAT, "seq": 1}), {"outsider": "NOT_FOUND", "admin": "NOT_FOUND"}),
    "markAsRead": (payload(CHAT), {"outsider": "NOT_FOUND", "admin": "NOT_FOUND"}),
    "editMessage": (
        payload({**CHAT, "messageId": "{w.message_id}", "content": "edited"}),
        {"outsider": "NOT_FOUND", "admin": "NOT_FOUND"},
    ),
    "deleteMessage": (delete_payload, {"outsider": "NOT_FOUND", "admin": "NOT_FOUND"}),
    "sync": (payload({}), {}),
    "reauth": (reauth_payload, {}),
    "visibility": (payload({"hidden": True}), {}),
}  # fmt: skip


def test_the_socket_table_covers_every_event() -> None:
    handlers = {  # the namespace the app registers
        name.removeprefix("on_")
        for name in dir(VisibilityNamespace)
        if name.startswith("on_") and name not in ("on_connect", "on_disconnect")
    }
    assert handlers == set(SOCKET)


@pytest.mark.parametrize("role", ["anonymous", "deactivated"])
async def test_socket_refuses_to_connect(family: Family, role: str) -> None:
    w = await build_world(family)
    client = family.client()
    client.access_token = w.token(role) or "not-a-token"
    with pytest.raises(socketio.exceptions.ConnectionError):
        await client.connect()
    assert client.inbox.all("messageReceived") == []


@pytest.mark.parametrize("role", ["member", "outsider", "admin"])
async def test_socket_authorization(family: Family, role: str) -> None:
    w = await build_world(family)
    client = w.caller[role]
    assert client is not None
    await client.connect()
    assert client.sio is not None
    wrong: list[str] = []
    ordered = sorted(SOCKET.items(), key=lambda item: item[1][1].get(role) is None)
    for event, (build, refusals) in ordered:
        data = await build(w, role)
        refusal = refusals.get(role)
        before = await fingerprint(family) if refusal else None
        ack = await client.sio.call(event, data, timeout=10)
        if refusal is None:
            if not ack.get("ok"):
                wrong.append(f"{event} as {role}: refused {ack}")
        else:
            if ack.get("ok") or ack["error"]["code"] != refusal:
                wrong.append(f"{event} as {role}: expected {refusal}, got {ack}")
            if await fingerprint(family) != before:
                wrong.append(f"{event} as {role}: refused but changed the database")
        if role != "member" and SECRET in repr(ack):
            wrong.append(f"{event} as {role}: leaked the private chat's text")
    received = repr(
        {name: client.inbox.all(name) for name in ("messageReceived", "chatMessages", "sync")}
    )
    if role != "member" and SECRET in received:
        wrong.append(f"{role} received the private chat's text in an event")
    assert not wrong, "\n".join(wrong)


# --- Socket.IO: the /calls namespace ------------------------------------------------------

OFFER = {"sdp": "v=0\r\n", "type": "offer"}
CANDIDATE = {
    "candidate": "candidate:1 1 udp 1 127.0.0.1 9 typ host",
    "sdpMid": "0",
    "sdpMLineIndex": 0,
}


def on_ringing(extra: dict[str, Any] | None = None) -> SocketBuilder:
    async def build(w: World, role: str) -> Any:
        return {"callId": await w.fresh_call(), **(extra or {})}

    return build


def on_group_call(w_extra: dict[str, Any] | None = None) -> SocketBuilder:
    async def build(w: World, role: str) -> Any:
        return {"callId": await w.group_call(), **(w_extra or {})}

    return build


NOT_A_PARTY = {"outsider": "NOT_FOUND", "admin": "NOT_FOUND"}
CALL_SOCKET: dict[str, tuple[SocketBuilder, dict[str, str | None]]] = {
    "accept_call": (on_ringing(), NOT_A_PARTY),
    "reject_call": (on_ringing(), NOT_A_PARTY),
    "end_call": (on_ringing(), NOT_A_PARTY),
    "sdp_offer": (on_ringing({"sdp": OFFER}), NOT_A_PARTY),
    "sdp_answer": (on_ringing({"sdp": {"sdp": "v=0\r\n", "type": "answer"}}), NOT_A_PARTY),
    "ice_candidate": (on_ringing({"candidate": CANDIDATE}), NOT_A_PARTY),
    "join_group_call": (on_group_call(), NOT_A_PARTY),
    "leave_group_call": (on_group_call(), NOT_A_PARTY),
    "reauth": (reauth_payload, {}),
}  # fmt: skip


def test_the_calls_socket_table_covers_every_event() -> None:
    handlers = {
        name.removeprefix("on_")
        for name in dir(CallsNamespace)
        if name.startswith("on_") and name not in ("on_connect", "on_disconnect")
    }
    assert handlers == set(CALL_SOCKET)


@pytest.mark.parametrize("role", ["anonymous", "deactivated"])
async def test_calls_socket_refuses_to_connect(family: Family, role: str) -> None:
    w = await build_world(family)
    sock = CallSocket(family.url, w.token(role) or "not-a-token")
    with pytest.raises(socketio.exceptions.ConnectionError):
        await sock.connect()


@pytest.mark.parametrize("role", ["member", "outsider", "admin"])
async def test_calls_socket_authorization(family: Family, role: str) -> None:
    w = await build_world(family)
    client = w.caller[role]
    assert client is not None and client.access_token
    sock = await CallSocket(family.url, client.access_token).connect()
    wrong: list[str] = []
    try:
        for event, (build, refusals) in CALL_SOCKET.items():
            data = await build(w, role)
            refusal = refusals.get(role)
            before = await fingerprint(family) if refusal else None
            ack = await sock.call(event, data)
            if refusal is None:
                if not ack.get("ok"):
                    wrong.append(f"{event} as {role}: refused {ack}")
            else:
                if ack.get("ok") or ack["error"]["code"] != refusal:
                    wrong.append(f"{event} as {role}: expected {refusal}, got {ack}")
                if await fingerprint(family) != before:
                    wrong.append(f"{event} as {role}: refused but changed the database")
    finally:
        await sock.close()
    if role != "member":  # nothing of anna's calls reached an outsider
        for name in ("incoming_call", "sdp_offer", "ice_candidate", "call_ended"):
            if sock.inbox.all(name):
                wrong.append(f"{role} received {name}")
    assert not wrong, "\n".join(wrong)
