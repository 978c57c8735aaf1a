"""The marks of shown notifications (server/push/shown.py), in memory and in Redis: a
read takes a chat's marks once, and a device still shows what other chats left."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from inner_circle.server.push.shown import MemoryShownMarks, RedisShownMarks, ShownMarks
from tests.support import REDIS_URL, need_service


@pytest_asyncio.fixture(params=["memory", "redis"])
async def marks(request: pytest.FixtureRequest) -> AsyncIterator[ShownMarks]:
    if request.param == "memory":
        yield MemoryShownMarks()
        return
    from redis.asyncio import Redis

    client = Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        await client.ping()
    except Exception:
        await client.aclose()
        need_service(f"Redis is not reachable at {REDIS_URL}")
    prefix = f"ic-test-{uuid.uuid4().hex[:12]}"
    store = RedisShownMarks(client, prefix=f"{prefix}:", ttl=60)
    yield store
    keys = [key async for key in client.scan_iter(match=f"{prefix}:*")]
    if keys:
        await client.delete(*keys)
    await store.close()


async def test_a_read_takes_the_chats_marks_once(marks: ShownMarks) -> None:
    member, chat, other_chat = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    phone, laptop, tablet = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    phone_session, laptop_session = uuid.uuid4(), uuid.uuid4()
    await marks.mark(member, chat, {phone: phone_session, laptop: laptop_session})
    await marks.mark(member, other_chat, {laptop: laptop_session})
    assert await marks.still_shown([phone, laptop, tablet]) == {phone, laptop}

    assert await marks.claim(member, chat) == {phone: phone_session, laptop: laptop_session}
    assert await marks.claim(member, chat) == {}
    assert await marks.claim(uuid.uuid4(), other_chat) == {}  # another member's read
    assert await marks.still_shown([phone, laptop]) == {laptop}  # the other chat's
    assert await marks.claim(member, other_chat) == {laptop: laptop_session}
    assert await marks.still_shown([phone, laptop]) == set()
