"""Abuse limits through the real API: login, registration, messages, body size, socket events."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest

from inner_circle.sdk.errors import RateLimitedError
from tests.security.conftest import StartServer
from tests.support import PASSWORD

LOW_LOGIN = {"limit_login_free_attempts": 3, "limit_lockout_base_seconds": 30}


async def login(
    client: httpx.AsyncClient, username: str, password: str, address: str | None = None
) -> httpx.Response:
    headers = {"X-Forwarded-For": address} if address else {}
    return await client.post(
        "/auth/login", json={"username": username, "password": password}, headers=headers
    )


def assert_rate_limited(response: httpx.Response) -> None:
    assert response.status_code == 429, response.text
    assert response.json()["code"] == "RATE_LIMITED"
    assert response.json()["statusCode"] == 429
    assert int(response.headers["Retry-After"]) >= 1


async def test_login_locks_the_username_after_the_free_attempts(start_server: StartServer) -> None:
    family = await start_server(**LOW_LOGIN)
    await family.member("anna")
    await family.member("ben")
    # From addresses anna never signed in from (a known device has a counter of its own).
    away = "198.51.100.1"
    async with httpx.AsyncClient(base_url=family.url) as http:
        for _ in range(3):
            assert (await login(http, "anna", "wrong-password", away)).status_code == 401
        locked = await login(http, "anna", PASSWORD, away)  # even the right password waits
        assert_rate_limited(locked)
        assert 1 <= int(locked.headers["Retry-After"]) <= 30
        assert_rate_limited(await login(http, "ANNA ", PASSWORD, away))  # other spelling
        assert_rate_limited(await login(http, "\uff21\uff4e\uff4e\uff41", PASSWORD, away))  # width
        assert_rate_limited(await login(http, "anna", PASSWORD, address="203.0.113.9"))
        # Other members, from the same address, are not affected.
        assert (await login(http, "ben", PASSWORD)).status_code == 200


async def test_unknown_usernames_lock_like_real_ones(start_server: StartServer) -> None:
    family = await start_server(**LOW_LOGIN)
    async with httpx.AsyncClient(base_url=family.url) as http:
        for _ in range(3):
            assert (await login(http, "nobody", "wrong-password")).status_code == 401
        assert_rate_limited(await login(http, "nobody", "wrong-password"))


async def test_login_locks_an_address_that_sprays_many_usernames(start_server: StartServer) -> None:
    family = await start_server(limit_login_address_free_attempts=4, limit_lockout_base_seconds=30)
    await family.member("anna")
    async with httpx.AsyncClient(base_url=family.url) as http:
        for i in range(4):
            response = await login(http, f"guess{i}", "wrong-password", address="198.51.100.7")
            assert response.status_code == 401
        assert_rate_limited(await login(http, "anna", PASSWORD, address="198.51.100.7"))
        assert (await login(http, "anna", PASSWORD, address="198.51.100.8")).status_code == 200


async def test_parallel_guesses_cannot_slip_past_the_limit(start_server: StartServer) -> None:
    family = await start_server(**LOW_LOGIN)
    await family.member("anna")
    async with httpx.AsyncClient(base_url=family.url) as http:
        answers = await asyncio.gather(*(login(http, "anna", f"guess-{i}") for i in range(12)))
    statuses = sorted(a.status_code for a in answers)
    assert statuses.count(401) <= 3, statuses
    assert statuses.count(429) >= 9, statuses


async def test_a_successful_login_clears_the_username_count(start_server: StartServer) -> None:
    family = await start_server(**LOW_LOGIN)
    await family.member("anna")
    async with httpx.AsyncClient(base_url=family.url) as http:
        for _ in range(2):
            assert (await login(http, "anna", "wrong-password")).status_code == 401
        assert (await login(http, "anna", PASSWORD)).status_code == 200
        for _ in range(2):  # the count started again from zero
            assert (await login(http, "anna", "wrong-password")).status_code == 401
        assert (await login(http, "anna", PASSWORD)).status_code == 200


async def test_wrong_invitation_codes_lock_the_address(start_server: StartServer) -> None:
    family = await start_server(limit_invite_free_failures=2, limit_lockout_base_seconds=30)
    good_code = await family.invite()
    async with httpx.AsyncClient(base_url=family.url) as http:

        async def register(code: str, name: str, address: str = "192.0.2.10") -> httpx.Response:
            body = {"username": name, "password": PASSWORD, "invitationCode": code}
            return await http.post(
                "/users/register", json=body, headers={"X-Forwarded-For": address}
            )

        for i in range(2):
            response = await register(f"GUESS{i:04d}", f"eve{i}")
            assert response.status_code == 400
            assert response.json()["code"] == "INVITE_INVALID"
        assert_rate_limited(await register(good_code, "carl"))
        # The code was not spent by the refused attempt; another address can use it.
        assert (await register(good_code, "carl", address="192.0.2.11")).status_code == 201


async def test_registration_attempts_are_limited_per_address(start_server: StartServer) -> None:
    family = await start_server(limit_register_burst=2, limit_register_per_minute=0.01)
    codes = [await family.invite() for _ in range(3)]
    async with httpx.AsyncClient(base_url=family.url) as http:
        statuses = []
        for i, code in enumerate(codes):
            body = {"username": f"kid{i}", "password": PASSWORD, "invitationCode": code}
            statuses.append((await http.post("/users/register", json=body)).status_code)
    assert statuses == [201, 201, 429]


LOW_MESSAGES = {"limit_message_burst": 3, "limit_message_per_second": 0.01}


async def test_messages_are_limited_per_member_over_rest(start_server: StartServer) -> None:
    family = await start_server(**LOW_MESSAGES)
    anna = await family.member("anna")
    ben = await family.member("ben")
    chat = await anna.family_chat()
    for i in range(3):
        await anna.post_message(chat.id, f"hello {i}")
    with pytest.raises(RateLimitedError) as refused:
        await anna.post_message(chat.id, "one too many")
    assert refused.value.status == 429
    await ben.post_message(chat.id, "my own budget")  # per member, not per chat
    history = [m.content for m in await ben.history(chat.id)]
    assert history == ["hello 0", "hello 1", "hello 2", "my own budget"]


async def test_socket_send_is_limited_and_the_connection_stays(start_server: StartServer) -> None:
    family = await start_server(**LOW_MESSAGES)
    anna = await family.member("anna", connect=True)
    chat = await anna.family_chat()
    await anna.post_message(chat.id, "over REST")  # REST and socket share one budget
    for i in range(2):
        await anna.call("sendMessage", {"chatId": str(chat.id), "content": f"socket {i}"})
    assert anna.sio is not None
    ack: dict[str, Any] = await anna.sio.call(
        "sendMessage", {"chatId": str(chat.id), "content": "too fast"}, timeout=10
    )
    assert ack["ok"] is False
    assert ack["error"]["code"] == "RATE_LIMITED"
    assert ack["error"]["retryAfter"] >= 1
    error = await anna.inbox.wait_for("error", lambda e: e.get("event") == "sendMessage")
    assert error["code"] == "RATE_LIMITED"
    assert anna.sio.connected
    chats = await anna.call("getChats")  # the same connection still serves other events
    assert chats["chats"][0]["lastSeq"] == 3


async def test_reactions_and_pins_spend_the_message_budget(start_server: StartServer) -> None:
    family = await start_server(**LOW_MESSAGES)
    anna = await family.member("anna", connect=True)
    ben = await family.member("ben")
    chat = await anna.private_chat(ben.user_id)
    sent = await ben.post_message(chat.id, "a message to react to")
    await anna.react(chat.id, sent.id, "👍")
    await anna.pin(chat.id, sent.id)
    ref = {"chatId": str(chat.id), "messageId": str(sent.id)}
    await anna.call("react", {**ref, "emoji": "❤️"})
    with pytest.raises(RateLimitedError):
        await anna.unreact(chat.id, sent.id, "👍")
    assert anna.sio is not None
    ack = await anna.sio.call("pinMessage", ref, timeout=10)
    assert ack["error"]["code"] == "RATE_LIMITED"
    (shown,) = await ben.history(chat.id)
    assert [r.emoji for r in shown.reactions] == ["👍", "❤️"]  # the refused one changed nothing


async def test_a_forward_spends_one_message_of_the_budget(start_server: StartServer) -> None:
    family = await start_server(**LOW_MESSAGES)
    anna = await family.member("anna", connect=True)
    ben = await family.member("ben")
    chat = await anna.private_chat(ben.user_id)
    family_chat = await anna.family_chat()
    one = await ben.post_message(chat.id, "one")
    two = await ben.post_message(chat.id, "two")
    # Anna's budget of 3: a forward of two messages counts once, over REST or the socket.
    assert len(await anna.forward([one.id, two.id], [family_chat.id])) == 2
    await anna.post_message(chat.id, "thanks")
    body = {"messageIds": [str(one.id)], "toChatIds": [str(family_chat.id)]}
    await anna.call("forwardMessages", body)
    with pytest.raises(RateLimitedError):
        await anna.forward([two.id], [family_chat.id])
    assert anna.sio is not None
    ack = await anna.sio.call("forwardMessages", body, timeout=10)
    assert ack["error"]["code"] == "RATE_LIMITED"
    copies = await ben.history(family_chat.id)
    assert [m.content for m in copies] == ["one", "two", "one"]  # the refused ones sent nothing


async def test_limits_are_shared_by_processes_through_redis(
    start_server: StartServer, redis_url: str, redis_prefix: str
) -> None:
    settings = {**LOW_LOGIN, "redis_url": redis_url, "redis_key_prefix": redis_prefix}
    first = await start_server(**settings)
    second = await start_server(**settings)  # same database, same Redis: a second process
    await first.member("anna")
    async with (
        httpx.AsyncClient(base_url=first.url) as one,
        httpx.AsyncClient(base_url=second.url) as two,
    ):
        assert (await login(one, "anna", "wrong-password")).status_code == 401
        assert (await login(two, "anna", "wrong-password")).status_code == 401
        assert (await login(one, "anna", "wrong-password")).status_code == 401
        assert_rate_limited(await login(two, "anna", PASSWORD))
        assert_rate_limited(await login(one, "anna", PASSWORD))


async def test_oversized_bodies_are_refused_before_anything_is_stored(
    start_server: StartServer,
) -> None:
    family = await start_server(max_request_bytes=4096)
    anna = await family.member("anna")
    chat = await anna.family_chat()
    headers = {"Authorization": f"Bearer {anna.access_token}"}
    async with httpx.AsyncClient(base_url=family.url, headers=headers) as http:
        big = {"content": "x" * 5000}
        response = await http.post(f"/messages/{chat.id}", json=big)
        assert response.status_code == 413
        assert response.json()["code"] == "PAYLOAD_TOO_LARGE"

        async def chunked() -> Any:  # no Content-Length: the bound is counted while reading
            for _ in range(10):
                yield b" " * 1000

        response = await http.post(
            f"/messages/{chat.id}",
            content=chunked(),
            headers={"Content-Type": "application/json"},
        )
        assert response.status_code == 413
        assert response.json()["code"] == "PAYLOAD_TOO_LARGE"
        ok = await http.post(f"/messages/{chat.id}", json={"content": "small"})
        assert ok.status_code == 201
    assert [m.content for m in await anna.history(chat.id)] == ["small"]


async def test_an_oversized_socket_event_only_hurts_its_sender(start_server: StartServer) -> None:
    family = await start_server()
    mallory = await family.member("mallory", connect=True)
    anna = await family.member("anna", connect=True)
    ben = await family.member("ben", connect=True)
    chat = await anna.family_chat()
    assert mallory.sio is not None
    dropped = asyncio.Event()
    mallory.sio.on("disconnect", lambda *_: dropped.set())
    await mallory.sio.emit("sendMessage", {"chatId": str(chat.id), "content": "x" * 200_000})
    await asyncio.wait_for(dropped.wait(), 10)
    await anna.call("sendMessage", {"chatId": str(chat.id), "content": "still here"})
    received = await ben.inbox.wait_for("messageReceived")
    assert received["content"] == "still here"
    assert [m.content for m in await ben.history(chat.id)] == ["still here"]


async def test_limits_can_be_switched_off(start_server: StartServer) -> None:
    family = await start_server(rate_limits_enabled=False, **LOW_MESSAGES)
    anna = await family.member("anna")
    chat = await anna.family_chat()
    for i in range(6):
        await anna.post_message(chat.id, f"m{i}", client_message_id=str(uuid.uuid4()))
