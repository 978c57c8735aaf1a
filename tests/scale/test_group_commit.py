"""Group commit: concurrent sendMessage calls share transactions, each keeps its own answer."""

from __future__ import annotations

import asyncio

from inner_circle.sdk.errors import NotFoundError
from tests.support import Family


async def test_concurrent_sends_each_get_their_own_answer(family: Family) -> None:
    anna = await family.member("anna", connect=True)
    bob = await family.member("bob", connect=True)
    eve = await family.member("eve", connect=True)
    chat = await anna.family_chat()
    secret = await anna.create_group("no eve", [bob.user_id])

    sends = [anna.send_message(chat.id, f"a{i}", client_message_id=f"a{i}") for i in range(15)]
    sends += [bob.send_message(chat.id, f"b{i}", client_message_id=f"b{i}") for i in range(15)]
    sends += [anna.send_message(chat.id, "a0 again", client_message_id="a0")]  # a retry
    sends += [eve.send_message(secret.id, "let me in")]  # refused alone
    results = await asyncio.gather(*sends, return_exceptions=True)

    stored = results[:30]
    assert all(not isinstance(r, BaseException) for r in stored), stored
    assert sorted(r.seq for r in stored) == list(range(1, 31))  # type: ignore[union-attr]
    retry = results[30]
    assert not isinstance(retry, BaseException)
    assert retry.id == stored[0].id  # type: ignore[union-attr]
    assert isinstance(results[31], NotFoundError)

    # Every stored message reached every member once, in sequence order.
    for client in (anna, bob, eve):
        got = await client.inbox.wait_count("messageReceived", 30)
        assert [m["seq"] for m in got if m["chatId"] == str(chat.id)] == list(range(1, 31))
    history = await bob.history(chat.id, limit=50)
    assert [m.content for m in history].count("a0") == 1
    # The senders' read positions moved with their own messages.
    assert (await anna.chat(chat.id)).unread_count <= 15
    assert (await bob.chat(chat.id)).unread_count <= 15
