"""Two server processes (threads here) sharing the database and Redis: a session's
visibility counts on every process, and each message is pushed once."""

from __future__ import annotations

import gc
import uuid
from collections.abc import Iterator

import pytest

from tests.push.conftest import PushReceiver, StartPush, subscribe
from tests.support import REDIS_URL, need_service


@pytest.fixture
def redis_settings() -> dict[str, str]:
    from redis import Redis

    client = Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except Exception:
        need_service(f"Redis is not reachable at {REDIS_URL}")
    finally:
        client.close()
    return {"redis_url": REDIS_URL, "redis_key_prefix": f"ic-test-{uuid.uuid4().hex[:12]}"}


@pytest.fixture
def collect_garbage_after() -> Iterator[None]:
    """Requested before the servers: after they stopped, the Redis connections they left
    to the garbage collector (see below) are collected here, under this test's warning
    filters, not in whichever test runs next."""
    yield
    gc.collect()


# A threaded server with Redis and a connected socket leaves a Redis connection to the
# garbage collector at shutdown (so at the base commit too, without push): not this test's.
@pytest.mark.filterwarnings("ignore::ResourceWarning")
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
async def test_visibility_is_shared_and_each_push_is_sent_once(
    collect_garbage_after: None,
    push_family: StartPush,
    receiver: PushReceiver,
    redis_settings: dict[str, str],
) -> None:
    first = await push_family(**redis_settings)
    second = await push_family(**redis_settings)
    alice = await first.member("alice", connect=True)
    bob = await second.member("bob", connect=True)  # visible, on the other process
    carol = await first.member("carol")  # offline: her pushes mark each message planned
    bobs, carols = receiver.new(), receiver.new()
    await subscribe(bob, bobs)
    await subscribe(carol, carols)
    chat = await alice.create_group("Cousins", [bob.user_id, carol.user_id])
    await alice.send_message(chat.id, "one")
    await receiver.wait_for(carols.name)
    await bob.call("visibility", {"hidden": True})
    await alice.send_message(chat.id, "two")
    await bob.send_message(chat.id, "three")  # committed by the other process

    pushes = await receiver.wait_for(bobs.name)
    assert pushes[0].payload["body"] == "two"
    await receiver.wait_for(carols.name, 3)
    await alice.send_message(chat.id, "four")
    await receiver.wait_for(carols.name, 4)
    bodies = [p.payload["body"] for p in receiver.received[carols.name]]
    # Each push once; "two" and "three" were committed by different processes, so their
    # pushes race each other (both came after "one" and before "four", which waited).
    assert bodies[0] == "one" and bodies[3] == "four", bodies
    assert sorted(bodies[1:3]) == ["three", "two"], bodies
    assert len(bodies) == 4, bodies
    await receiver.wait_for(bobs.name, 2)
    assert [p.payload["body"] for p in receiver.received[bobs.name]] == ["two", "four"]


@pytest.mark.filterwarnings("ignore::ResourceWarning")
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
async def test_a_read_on_another_process_clears_once(
    collect_garbage_after: None,
    push_family: StartPush,
    receiver: PushReceiver,
    redis_settings: dict[str, str],
) -> None:
    first = await push_family(**redis_settings)
    second = await push_family(**redis_settings)
    alice = await first.member("alice", connect=True)
    bob_laptop = await first.member("bob")
    bob_phone = await second.device(bob_laptop, connect=False)
    laptop = receiver.new()
    await subscribe(bob_laptop, laptop)
    chat = await alice.private_chat(bob_laptop.user_id)
    await alice.send_message(chat.id, "pushed by the first process")
    await receiver.wait_for(laptop.name)
    # Read on the phone, served by the second process, twice (the second moves nothing).
    await bob_phone.mark_read_rest(chat.id, 1)
    await bob_phone.mark_read_rest(chat.id, 1)
    # Committed by the second process too: planned after the read, in commit order.
    alice_there = await second.device(alice)
    await alice_there.send_message(chat.id, "marker")

    pushes = await receiver.wait_for(laptop.name, 3)
    assert [p.payload["type"] for p in pushes] == ["message", "read", "message"]
    assert pushes[1].payload["chatId"] == str(chat.id)
