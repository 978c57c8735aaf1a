"""Two server processes behind one PostgreSQL and one Redis act as one server."""

from __future__ import annotations

import uuid

from inner_circle.sdk import InnerCircleClient
from tests.scale.conftest import PRESENCE_TTL, Cluster
from tests.support import PASSWORD


async def _member(cluster: Cluster, url: str, name: str) -> InnerCircleClient:
    client = InnerCircleClient(url)
    await client.register(name, PASSWORD, cluster.invite())
    await client.login(name, PASSWORD)
    return client


def _is(user_id: uuid.UUID, online: bool):  # type: ignore[no-untyped-def]
    return lambda p: p["userId"] == str(user_id) and p["isOnline"] is online


async def test_members_on_different_processes_talk(cluster: Cluster) -> None:
    a, b = cluster.servers
    anna = await _member(cluster, a.url, "anna")
    bob = await _member(cluster, b.url, "bob")
    try:
        await anna.connect()
        await bob.connect()
        # Presence crossed processes: anna (on A) hears bob (on B) come online ...
        await anna.inbox.wait_for("presence", _is(bob.user_id, True))
        # ... and either process answers from the shared presence.
        assert {m.username: m.is_online for m in await anna.members()}["bob"] is True
        chat = await anna.family_chat()

        sent = await anna.send_message(chat.id, "hello from A")
        got = await bob.inbox.wait_for("messageReceived", lambda m: m["id"] == str(sent.id))
        assert got["content"] == "hello from A"
        reply = await bob.send_message(chat.id, "hello from B")
        await anna.inbox.wait_for("messageReceived", lambda m: m["id"] == str(reply.id))
        assert reply.seq == sent.seq + 1

        await bob.typing(chat.id)
        typing = await anna.inbox.wait_for("userTyping")
        assert typing["userId"] == str(bob.user_id)

        await bob.disconnect()
        await anna.inbox.wait_for("presence", _is(bob.user_id, False))
    finally:
        await anna.close()
        await bob.close()


async def test_killed_process_clients_move_over_and_catch_up(cluster: Cluster) -> None:
    a, b = cluster.servers
    anna = await _member(cluster, a.url, "anna")
    bob = await _member(cluster, b.url, "bob")
    bob_again = InnerCircleClient(a.url)
    try:
        await anna.connect()
        await bob.connect()
        await anna.inbox.wait_for("presence", _is(bob.user_id, True))
        chat = await anna.family_chat()
        first = await anna.send_message(chat.id, "before the crash")
        seen = await bob.inbox.wait_for("messageReceived", lambda m: m["id"] == str(first.id))
        cursor = int(seen["seq"])

        b.kill()
        # Nobody told A that bob's connection is gone: his presence entry expires
        # (PRESENCE_TTL) and the survivor announces him offline.
        await anna.inbox.wait_for("presence", _is(bob.user_id, False), timeout=PRESENCE_TTL * 5)
        missed = [await anna.send_message(chat.id, f"while you were away {i}") for i in range(5)]

        # bob's app reconnects to the surviving process and catches up from its cursor.
        bob_again.access_token, bob_again.refresh_token = bob.access_token, bob.refresh_token
        bob_again.user = bob.user
        await bob_again.connect()
        await anna.inbox.wait_for("presence", _is(bob.user_id, True))
        caught_up = await bob_again.history(chat.id, after=cursor)
        assert [m.id for m in caught_up] == [m.id for m in missed]
        assert [m.seq for m in caught_up] == list(range(cursor + 1, cursor + 6))

        # And live delivery works again on the survivor.
        live = await anna.send_message(chat.id, "welcome back")
        await bob_again.inbox.wait_for("messageReceived", lambda m: m["id"] == str(live.id))
    finally:
        await anna.close()
        await bob.close()
        await bob_again.close()
