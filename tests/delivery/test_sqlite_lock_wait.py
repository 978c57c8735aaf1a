"""SQLite: hot statements run on the event loop's thread (``db/driver_sql.py``), but a write
that has to wait for another process's write lock (the CLI, a backup tool) waits on
aiosqlite's thread: the server keeps answering everyone meanwhile, the sender's own
connection included, and the message is stored once the lock is free."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from typing import Any

import httpx
from sqlalchemy import event

from tests.support import StartServer

LOCKING_BEGIN = "BEGIN IMMEDIATE"  # a writer takes the lock as it begins


async def test_a_send_waiting_for_another_process_lock_leaves_the_server_answering(
    start_server: StartServer,
) -> None:
    family = await start_server()
    anna = await family.member("anna", connect=True)
    ben = await family.member("ben", connect=True)
    chat = await anna.private_chat(ben.user_id)
    await anna.send_message(chat.id, "before")

    engine = family.server.app.other_asgi_app.state.engine.sync_engine
    reached_the_lock = threading.Event()

    def watch(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement == LOCKING_BEGIN:
            reached_the_lock.set()

    path = family.settings.database_url.split(":///", 1)[1]
    other_process = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other_process.execute("BEGIN IMMEDIATE")  # holds SQLite's write lock
    event.listen(engine, "before_cursor_execute", watch)
    try:
        sending = asyncio.create_task(anna.send_message(chat.id, "waits for the lock"))
        assert await asyncio.to_thread(reached_the_lock.wait, 10), "the send never got there"
        # The send now waits for the lock: reads, sign-in checks and the health check are
        # still answered, well within the lock's busy timeout (10 s).
        async with httpx.AsyncClient(base_url=family.url, timeout=3) as http:
            assert (await http.get("/healthz")).status_code == 200
        seen = await asyncio.wait_for(ben.history(chat.id), 3)
        assert [m.content for m in seen] == ["before"]
        # The sender's own connection too: each event runs on its own, so the next one
        # is answered while the send waits.
        await asyncio.wait_for(anna.typing(chat.id, True), 3)
        typing = await ben.inbox.wait_for("userTyping", timeout=3)
        assert typing["userId"] == str(anna.user_id) and typing["isTyping"] is True
        assert not sending.done()
    finally:
        other_process.rollback()
        other_process.close()
        event.remove(engine, "before_cursor_execute", watch)

    stored = await asyncio.wait_for(sending, 10)
    assert stored.content == "waits for the lock"
    arrived = await ben.inbox.wait_for("messageReceived", lambda m: m["id"] == str(stored.id))
    assert arrived["seq"] == stored.seq == 2
    assert [m.content for m in await ben.history(chat.id)] == ["before", "waits for the lock"]
