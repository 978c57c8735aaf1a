"""The seed's Flutter app against our server, flow by flow, every answer parsed the way
its Dart models parse it (tests/contract/dart.py), on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import select

from inner_circle.server.db.models import FcmToken
from tests.contract import dart
from tests.contract.app import App
from tests.contract.conftest import Join
from tests.support import Family


async def test_login_gives_tokens_the_app_decodes(family: Family, app_of: Join) -> None:
    anna = await app_of("anna")
    answer = await anna.login("anna")
    access, refresh = dart.check_login(answer)
    assert access["sub"] == refresh["sub"] == answer["user"]["id"]
    assert access["username"] == refresh["username"] == "anna"
    # The refresh token lives as long as the session: the app checks it at every start.
    lifetime = refresh["exp"] - refresh["iat"]
    assert lifetime == family.settings.refresh_token_ttl_seconds
    assert refresh["typ"] == "refresh"


async def test_users_carry_updated_at_everywhere(app_of: Join) -> None:
    anna = await app_of("anna")
    boris = await app_of("boris")
    listed = (await anna.get("/users")).json()
    assert [u["username"] for u in listed] == ["boris"]  # everyone but me, as the seed did
    for user in listed:
        dart.check_user(user)
    dart.check_user((await anna.get(f"/users/{boris.user_id}")).json())
    dart.check_user((await anna.get("/users/profile")).json())
    renamed = await anna.http.patch("/users/profile", json={"displayName": "Anna"})
    dart.check_user(renamed.json())
    await anna.connect()
    await app_of("vera")
    joined = await anna.inbox.wait_for("userJoined")
    dart.check_user(joined)


async def test_fcm_token_is_kept_per_session_and_forgotten_at_logout(
    family: Family, app_of: Join
) -> None:
    anna = await app_of("anna")
    response = await anna.post("/users/fcm-token", {"fcmToken": "device-token-1"})
    assert response.status_code == 200 and response.content == b""  # as the seed answered
    # the same session registering again replaces its token; another device adds its own
    await anna.post("/users/fcm-token", {"fcmToken": "device-token-2"})
    tablet = await app_of("boris")
    await tablet.post("/users/fcm-token", {"fcmToken": "tablet-token"})

    async def tokens() -> list[str]:
        async def read(uow: Any) -> list[str]:
            rows = await uow.session.execute(select(FcmToken.token).order_by(FcmToken.token))
            return list(rows.scalars())

        return list(await family.operator(read))

    assert await tokens() == ["device-token-2", "tablet-token"]
    bad = await anna.post("/users/fcm-token", {"fcmToken": ""})
    assert bad.status_code == 400
    logout = await anna.post("/auth/logout", {"refresh_token": anna.refresh_token})
    assert logout.status_code == 204
    assert await tokens() == ["tablet-token"]


async def test_chat_list_and_private_chat(app_of: Join) -> None:
    anna = await app_of("anna")
    boris = await app_of("boris")
    chats = (await anna.get("/chats")).json()
    assert len(chats) == 1 and chats[0]["isPrivate"] is False  # the family chat
    for chat in chats:
        dart.check_chat_item(chat)
    created = await anna.post("/chats/private", {"targetUserId": boris.user_id})
    assert created.status_code == 201
    dart.check_chat_item(created.json())
    assert created.json()["isPrivate"] is True
    assert created.json()["lastMessage"] is None
    sent = await anna.post(f"/messages/{created.json()['id']}", {"content": "привет"})
    dart.check_message(sent.json())
    for chat in (await boris.get("/chats")).json():
        dart.check_chat_item(chat)
    item = next(c for c in (await boris.get("/chats")).json() if c["isPrivate"])
    assert item["lastMessage"]["content"] == "привет" and item["unreadCount"] == 1


async def test_messages_carry_their_chat_on_every_path(app_of: Join) -> None:
    anna = await app_of("anna")
    boris = await app_of("boris")
    await anna.connect()
    await boris.connect()
    family_chat = (await anna.get("/chats")).json()[0]
    chat_id = family_chat["id"]

    ack = await anna.emit("sendMessage", {"chatId": chat_id, "content": "hello"})
    assert ack["ok"] is True
    dart.check_message(ack["message"])
    sent = await anna.inbox.wait_for("messageSent")
    received = await boris.inbox.wait_for("messageReceived")
    for message in (sent, received):
        dart.check_message(message)
        assert message["chat"]["id"] == chat_id and message["id"] == ack["message"]["id"]

    history = (await boris.get(f"/messages/{chat_id}")).json()
    for message in history:
        dart.check_message(message)
    page = await boris.emit("getMessages", {"chatId": chat_id})
    for message in page["messages"]:
        dart.check_message(message)
    for message in await boris.inbox.wait_for("chatMessages"):
        dart.check_message(message)

    chats = await boris.emit("getChats", {})
    for chat in chats["chats"]:
        dart.check_chat_item(chat)
    for chat in await boris.inbox.wait_for("userChats"):
        dart.check_chat_item(chat)
    group = await boris.emit("createChat", {"name": "Дача", "participantIds": [anna.user_id]})
    dart.check_chat_item(group["chat"])
    dart.check_chat_item(await anna.inbox.wait_for("chatCreated"))

    edited = await anna.http.patch(
        f"/messages/{chat_id}/{ack['message']['id']}", json={"content": "hello!"}
    )
    dart.check_message(edited.json())
    dart.check_message(await boris.inbox.wait_for("messageUpdated"))

    fresh = (await boris.get("/sync")).json()
    for message in fresh["messages"]:
        dart.check_message(message)
    for chat in fresh["chats"]:
        dart.check_chat_item(chat)
    await anna.emit("sendMessage", {"chatId": chat_id, "content": "later"})
    since = await boris.emit("sync", {"since": 0})
    kinds = {event["type"] for event in since["events"]}
    assert {"message", "messageUpdated", "chat"} <= kinds
    for event in since["events"]:
        if event.get("message"):
            dart.check_message(event["message"])
        if event.get("chat"):
            dart.check_chat_item(event["chat"])
        if event.get("user"):
            dart.check_user(event["user"])


# The default namespace's events the seed's app listens for (the contract file).
SEED_EVENTS = ("messageReceived", "messageSent", "markedAsRead", "chatCreated", "chatMessages")


async def test_replies_forwards_reactions_and_pins_leave_the_app_reading_as_before(
    app_of: Join,
) -> None:
    anna = await app_of("anna")
    boris = await app_of("boris")
    await boris.connect()
    chat_id = (await anna.get("/chats")).json()[0]["id"]
    private = (await anna.post("/chats/private", {"targetUserId": boris.user_id})).json()

    # A reply and a forward reach the app as ordinary messages: their own text, their chat.
    original = (await anna.post(f"/messages/{chat_id}", {"content": "Buy milk"})).json()
    reply = await anna.post(
        f"/messages/{chat_id}", {"content": "on it", "replyToId": original["id"]}
    )
    assert reply.status_code == 201, reply.text
    forwarded = await anna.post(
        "/messages/forward", {"messageIds": [original["id"]], "toChatIds": [private["id"]]}
    )
    assert forwarded.status_code == 201, forwarded.text
    for message in [reply.json(), *forwarded.json()]:
        dart.check_message(message)
    seen = await boris.inbox.wait_count("messageReceived", 3)
    for message in seen:
        dart.check_message(message)
    assert [(m["chatId"], m["content"]) for m in seen] == [
        (chat_id, "Buy milk"),
        (chat_id, "on it"),
        (private["id"], "Buy milk"),
    ]

    # A reaction and a pin come as events the app does not listen for, and none it does:
    # no second copy of the message, no chat moved up, no unread badge raised.
    chats_before = (await boris.get("/chats")).json()
    known_before = {name: len(boris.inbox.all(name)) for name in SEED_EVENTS}
    reacted = await anna.http.put(f"/messages/{chat_id}/{original['id']}/reactions/👍")
    copy = forwarded.json()[0]["id"]  # pins in the family chat are the admins'
    pinned = await anna.post(f"/messages/{private['id']}/{copy}/pin", {})
    assert reacted.status_code == 200 and pinned.status_code == 200, (reacted.text, pinned.text)
    await boris.inbox.wait_for("reactionsUpdated")
    await boris.inbox.wait_for("messagePinned")
    assert {name: len(boris.inbox.all(name)) for name in SEED_EVENTS} == known_before
    chats_after = (await boris.get("/chats")).json()
    for chat in chats_after:
        dart.check_chat_item(chat)

    def shown(chats: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
        """What the chat list screen shows: the order, the badge, the last line."""
        return [
            (c["id"], c["unreadCount"], c["lastMessage"]["content"], c["lastMessage"]["createdAt"])
            for c in chats
        ]

    assert shown(chats_after) == shown(chats_before)

    # History, the MVP's getMessages and /sync still parse, each message once.
    history = (await boris.get(f"/messages/{chat_id}")).json()
    page = await boris.emit("getMessages", {"chatId": chat_id})
    for messages in (history, page["messages"]):
        for message in messages:
            dart.check_message(message)
        assert [m["content"] for m in messages] == ["Buy milk", "on it"]
    events = (await boris.get("/sync", since=0)).json()["events"]
    for event in events:
        if event.get("message"):
            dart.check_message(event["message"])
        if event.get("chat"):
            dart.check_chat_item(event["chat"])


async def test_history_pages_as_the_seed_paged(app_of: Join) -> None:
    anna = await app_of("anna")
    chat_id = (await anna.get("/chats")).json()[0]["id"]
    for i in range(1, 8):
        await anna.post(f"/messages/{chat_id}", {"content": f"m{i}"})

    async def contents(**params: Any) -> list[str]:
        response = await anna.get(f"/messages/{chat_id}", **params)
        assert response.status_code == 200, response.text
        for message in response.json():
            dart.check_message(message)
        return [m["content"] for m in response.json()]

    # limit/offset count from the oldest, oldest first, as on the seed
    assert await contents(limit=3, offset=0) == ["m1", "m2", "m3"]
    assert await contents(limit=3, offset=3) == ["m4", "m5", "m6"]
    assert await contents(limit=3, offset=6) == ["m7"]
    assert await contents(limit=3, offset=9) == []
    # without paging parameters: the newest page; keyset paging unchanged
    assert await contents(limit=3) == ["m5", "m6", "m7"]
    assert await contents(limit=2, before=3) == ["m1", "m2"]
    assert await contents(limit=2, after=5) == ["m6", "m7"]
    await anna.connect()
    page = await anna.emit("getMessages", {"chatId": chat_id, "limit": 2, "offset": 2})
    assert [m["content"] for m in page["messages"]] == ["m3", "m4"]


async def test_mark_as_read_clears_the_badge(app_of: Join) -> None:
    anna = await app_of("anna")
    boris = await app_of("boris")
    await anna.connect()
    await boris.connect()
    chat_id = (await anna.get("/chats")).json()[0]["id"]
    for i in range(3):
        await anna.post(f"/messages/{chat_id}", {"content": f"m{i}"})
    before = (await boris.get("/chats")).json()[0]
    assert before["unreadCount"] == 3

    ack = await boris.emit("markAsRead", {"chatId": chat_id})
    assert ack["ok"] is True and ack["unreadCount"] == 0
    answer = await boris.inbox.wait_for("markedAsRead")
    assert answer == {"chatId": chat_id, "userId": boris.user_id}
    # our read-state event reaches the others (the sender's ticks) with the last seq
    read = await anna.inbox.wait_for("messagesRead", lambda e: e["userId"] == boris.user_id)
    assert read == {"chatId": chat_id, "userId": boris.user_id, "seq": 3}
    assert (await boris.get("/chats")).json()[0]["unreadCount"] == 0
    events = (await boris.get("/sync", since=0)).json()["events"]
    assert {"type": "read", "chatId": chat_id, "userId": boris.user_id, "seq": 3} in [
        {k: e.get(k) for k in ("type", "chatId", "userId", "seq")} for e in events
    ]
    refused = await boris.emit("markAsRead", {"chatId": str(uuid.uuid4())})
    assert refused["ok"] is False and refused["error"]["code"] == "NOT_FOUND"


async def test_delete_chat_hides_a_private_chat_until_someone_writes(app_of: Join) -> None:
    anna = await app_of("anna")
    boris = await app_of("boris")
    await anna.connect()
    chat = (await anna.post("/chats/private", {"targetUserId": boris.user_id})).json()
    await boris.post(f"/messages/{chat['id']}", {"content": "first"})

    deleted = await anna.delete(f"/chats/{chat['id']}")
    assert deleted.status_code == 200
    assert isinstance(deleted.json()["message"], str)
    await anna.inbox.wait_for("chatRemoved", lambda e: e["chatId"] == chat["id"])
    assert chat["id"] not in {c["id"] for c in (await anna.get("/chats")).json()}
    assert chat["id"] in {c["id"] for c in (await boris.get("/chats")).json()}  # only mine

    await boris.post(f"/messages/{chat['id']}", {"content": "are you there?"})
    back = await anna.inbox.wait_for("chatCreated", lambda c: c["id"] == chat["id"])
    dart.check_chat_item(back)
    mine = {c["id"]: c for c in (await anna.get("/chats")).json()}
    assert mine[chat["id"]]["lastMessage"]["content"] == "are you there?"
    history = (await anna.get(f"/messages/{chat['id']}")).json()
    assert [m["content"] for m in history] == ["first", "are you there?"]  # history kept

    await anna.delete(f"/chats/{chat['id']}")
    again = await anna.post("/chats/private", {"targetUserId": boris.user_id})
    assert again.status_code == 200 and again.json()["id"] == chat["id"]
    assert chat["id"] in {c["id"] for c in (await anna.get("/chats")).json()}


async def test_delete_chat_leaves_a_group_and_never_deletes_the_family_chat(
    app_of: Join,
) -> None:
    anna = await app_of("anna")
    boris = await app_of("boris")
    group = (await anna.post("/chats", {"name": "Дача", "participantIds": [boris.user_id]})).json()
    left = await anna.delete(f"/chats/{group['id']}")
    assert left.status_code == 200 and "message" in left.json()
    assert group["id"] not in {c["id"] for c in (await anna.get("/chats")).json()}
    remaining = (await boris.get(f"/chats/{group['id']}")).json()
    assert [p["id"] for p in remaining["participants"]] == [boris.user_id]
    assert (await anna.get(f"/messages/{group['id']}")).status_code == 404

    family_chat = (await anna.get("/chats")).json()[0]
    refused = await anna.delete(f"/chats/{family_chat['id']}")
    assert refused.status_code == 403  # the app shows "no right to delete this chat"
    assert refused.json()["code"] == "FORBIDDEN"
    assert family_chat["id"] in {c["id"] for c in (await anna.get("/chats")).json()}
    assert (await anna.delete(f"/chats/{uuid.uuid4()}")).status_code == 404


async def test_the_seeds_unsafe_user_routes_answer_a_clear_4xx(app_of: Join) -> None:
    """The seed let any member edit or delete anyone (``PUT``/``DELETE /users/:id``)."""
    anna = await app_of("anna")
    boris = await app_of("boris")
    edit = await anna.http.put(f"/users/{boris.user_id}", json={"username": "mallory"})
    remove = await anna.delete(f"/users/{boris.user_id}")
    for answer in (edit, remove):
        assert answer.status_code == 405
        assert answer.json()["code"] == "VALIDATION_FAILED"
    assert (await boris.get("/users/profile")).json()["username"] == "boris"


@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("Бабушка", 201),
        ("Γιάννης", 201),
        ("анна-мария.2", 201),
        ("bаbushka", 400),  # a Cyrillic "а" among Latin letters
        ("Бaбушка", 400),  # a Latin "a" among Cyrillic letters
        ("ab", 400),
        ("баба яга", 400),
        ("x" * 33, 400),
        ("___", 400),
    ],
)
async def test_usernames_in_any_alphabet(family: Family, name: str, status: int) -> None:
    app = await _register(family, name)
    assert app.status_code == status, app.text
    if status == 400:
        assert app.json()["code"] == "VALIDATION_FAILED"


async def test_usernames_are_one_name_in_any_case_or_width(family: Family, app_of: Join) -> None:
    grandma = await app_of("Бабушка")
    taken = await _register(family, "бабушка")
    assert taken.status_code == 409 and taken.json()["code"] == "USERNAME_TAKEN"
    # any case signs in, to the same member
    other = await app_of("ｂｏｂ")  # full-width letters are stored as plain "bob"
    assert other.username == "bob"
    assert (await _register(family, "BOB")).status_code == 409
    again = dart.decode_jwt((await grandma.login("БАБУШКА"))["access_token"])
    assert again["sub"] == grandma.user_id and again["username"] == "Бабушка"
    # the Latin look-alike is a different, allowed name
    assert (await _register(family, "babushka")).status_code == 201


async def _register(family: Family, name: str) -> Any:
    app = App(family)
    try:
        return await app.post(
            "/users/register",
            {"username": name, "password": "secret-pw", "invitationCode": await family.invite()},
        )
    finally:
        await app.close()


async def test_a_file_from_the_web_client_reads_as_text_in_the_app(
    family: Family, app_of: Join
) -> None:
    boris = await app_of("boris")
    anna = await family.member("anna")  # the web client (SDK) sends a file
    chat = await anna.private_chat(uuid.UUID(boris.user_id))
    upload = await anna.upload_file(b"%PDF-1.4 plan", name="plan.pdf")
    await anna.post_message(chat.id, attachment_ids=[upload.id])
    history = (await boris.get(f"/messages/{chat.id}")).json()
    for message in history:
        dart.check_message(message)
    assert history[-1]["content"] == "📎 plan.pdf"
    item = next(c for c in (await boris.get("/chats")).json() if c["isPrivate"])
    dart.check_chat_item(item)
    assert item["lastMessage"]["content"] == "📎 plan.pdf"
