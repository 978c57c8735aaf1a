"""The sync cursor under concurrent writers: a client that syncs *while* others write
in several chats at once still sees every change exactly once.

On PostgreSQL, writers in different chats do not wait for each other, so the order in
which their changes commit can differ from the order of their sync-log ids. A cursor
must never step over a change that commits later with a smaller id.
"""

from __future__ import annotations

import asyncio
import uuid

import pytest

from inner_circle.sdk import InnerCircleClient
from tests.delivery.checks import full_history
from tests.support import Family

WRITERS = 6
PER_WRITER = 40


@pytest.mark.parametrize("database_url", ["sqlite", "postgres"], indirect=True)
async def test_syncing_during_concurrent_writes_misses_nothing(family: Family) -> None:
    reader = await family.member("reader")
    writers = [await family.member(f"writer{i}") for i in range(WRITERS)]
    # One chat per writer: no chat row lock orders their commits.
    chats = [await w.create_group(f"room {i}", [reader.user_id]) for i, w in enumerate(writers)]
    cursor = (await reader.sync()).cursor

    done = asyncio.Event()
    seen: dict[uuid.UUID, int] = {}
    reads_seen: set[tuple[uuid.UUID, int]] = set()

    async def write(writer: InnerCircleClient, chat_id: uuid.UUID) -> None:
        for n in range(PER_WRITER):
            message = await writer.post_message(chat_id, f"{n}", client_message_id=f"c{n}")
            if n % 10 == 9:
                await reader.mark_read_rest(chat_id, message.seq)

    async def read() -> None:
        nonlocal cursor
        while True:
            finished = done.is_set()  # one more full pass after the writers are done
            page = await reader.sync(cursor, limit=50)
            for event in page.events:
                if event.message is not None:
                    seen[event.message.id] = seen.get(event.message.id, 0) + 1
                if event.type == "read" and event.chat_id is not None and event.seq:
                    reads_seen.add((event.chat_id, event.seq))
            cursor = page.cursor
            if finished and not page.has_more:
                return

    reading = asyncio.create_task(read())
    await asyncio.gather(*(write(w, c.id) for w, c in zip(writers, chats, strict=True)))
    done.set()
    await asyncio.wait_for(reading, 30)

    stored = [m for c in chats for m in await full_history(reader, c.id)]
    assert len(stored) == WRITERS * PER_WRITER
    missing = [m.seq for m in stored if m.id not in seen]
    assert not missing, f"sync stepped over {len(missing)} messages"
    assert all(n == 1 for n in seen.values()), "a message came twice"
    expected_reads = {(c.id, seq) for c in chats for seq in range(10, PER_WRITER + 1, 10)}
    assert expected_reads <= reads_seen
