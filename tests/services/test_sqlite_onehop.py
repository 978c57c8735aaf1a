"""SQLite's adapter (``db/sqlite_onehop.py``): which thread runs a transaction's end.

A rollback with nothing running on aiosqlite's thread runs on the event loop's thread (every
read-only request ends with one); a rollback while a statement sent to that thread may still
be running there queues behind it, so the two never meet on the connection. SQLite's own
trace callback names the thread each statement really ran on.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.util import greenlet_spawn

from inner_circle.server.db.engine import create_engine
from inner_circle.server.db.sqlite_onehop import one_hop_dbapi

LOCKING_BEGIN = "BEGIN IMMEDIATE"
WRITE = "INSERT INTO notes VALUES ('never stored')"


class Trace:
    """Every statement SQLite ran on the engine's connections, with the thread it ran on."""

    def __init__(self) -> None:
        self.ran: list[tuple[str, int]] = []
        self.seen = threading.Event()
        self.waiting_for = ""
        self.changed = threading.Condition()

    def __call__(self, statement: str) -> None:
        with self.changed:
            self.ran.append((statement, threading.get_ident()))
            self.changed.notify_all()
        if statement == self.waiting_for:
            self.seen.set()

    def wait_for_runs(self, statement: str, count: int, timeout: float) -> bool:
        """Block until ``statement`` has started ``count`` times (call it off the loop)."""
        with self.changed:
            return self.changed.wait_for(lambda: len(self.threads_of(statement)) >= count, timeout)

    def threads_of(self, statement: str) -> list[int]:
        return [thread for ran, thread in self.ran if ran == statement]


@pytest_asyncio.fixture
async def traced(tmp_path: Path) -> AsyncIterator[tuple[AsyncEngine, Trace, Path]]:
    path = tmp_path / "onehop.db"
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    trace = Trace()

    @event.listens_for(engine.sync_engine, "connect")
    def _trace(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection._connection._connection.set_trace_callback(trace)

    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE notes (body TEXT)"))
    trace.ran.clear()
    yield engine, trace, path
    await engine.dispose()


async def test_a_rollback_with_nothing_on_the_thread_runs_on_the_loops_thread(
    traced: tuple[AsyncEngine, Trace, Path],
) -> None:
    engine, trace, _ = traced
    loop_thread = threading.get_ident()
    async with engine.connect() as connection:
        assert (await connection.execute(text("SELECT count(*) FROM notes"))).scalar() == 0
        await connection.rollback()
    assert trace.threads_of("BEGIN") == [loop_thread]
    assert trace.threads_of("SELECT count(*) FROM notes") == [loop_thread]
    assert trace.threads_of("ROLLBACK")[0] == loop_thread


async def test_a_rollback_queues_behind_a_statement_still_running_on_the_thread(
    traced: tuple[AsyncEngine, Trace, Path],
) -> None:
    _, trace, path = traced
    loop_thread = threading.get_ident()
    # The adapter itself, as SQLAlchemy drives it (its calls await inside a greenlet).
    adapted = await greenlet_spawn(one_hop_dbapi().connect, str(path), check_same_thread=False)
    adapted._connection._connection.set_trace_callback(trace)
    await greenlet_spawn(adapted.cursor().execute, "BEGIN")  # deferred: takes no lock
    other_process = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other_process.execute(LOCKING_BEGIN)  # holds the write lock: the write below waits
    trace.waiting_for = WRITE
    try:
        # A write outside a writer's transaction may wait for the lock: on aiosqlite's thread.
        writing = asyncio.create_task(greenlet_spawn(adapted.cursor().execute, WRITE))
        assert await asyncio.to_thread(trace.seen.wait, 10), "the write never started"
        writing.cancel()  # its caller gives up; the write still waits on the thread
        with pytest.raises(asyncio.CancelledError):
            await writing
        rolling_back = asyncio.create_task(greenlet_spawn(adapted.rollback))
    finally:
        other_process.rollback()  # the lock is free: the write, then the rollback, run
        other_process.close()
    await asyncio.wait_for(rolling_back, 10)

    statements = [statement for statement, _ in trace.ran]
    assert statements[-2:] == [WRITE, "ROLLBACK"]
    assert trace.threads_of("ROLLBACK") == trace.threads_of(WRITE)  # queued behind it
    assert trace.threads_of(WRITE) != [loop_thread]
    await greenlet_spawn(adapted.close)
    with sqlite3.connect(path) as check:
        assert check.execute("SELECT count(*) FROM notes").fetchone() == (0,)


async def _write_one_note(engine: AsyncEngine) -> None:
    from inner_circle.server.db.engine import WRITE_INTENT

    writer = engine.execution_options(**{WRITE_INTENT: True})
    async with writer.begin() as connection:
        await connection.execute(text("INSERT INTO notes VALUES ('kept')"))


async def test_a_writer_takes_a_free_lock_on_the_loops_thread(
    traced: tuple[AsyncEngine, Trace, Path],
) -> None:
    """``BEGIN IMMEDIATE`` is tried without waiting where the loop runs (the lock is almost
    always free); only the commit, which waits for the disk, goes to aiosqlite's thread."""
    engine, trace, _ = traced
    loop_thread = threading.get_ident()
    await _write_one_note(engine)
    assert trace.threads_of(LOCKING_BEGIN) == [loop_thread]
    assert trace.threads_of("COMMIT") != [loop_thread]
    # The try without waiting leaves the connection waiting for a lock as before.
    assert trace.threads_of("PRAGMA busy_timeout = 10000") == [loop_thread]


async def test_a_writer_waits_for_a_taken_lock_on_aiosqlites_thread(
    traced: tuple[AsyncEngine, Trace, Path],
) -> None:
    engine, trace, path = traced
    loop_thread = threading.get_ident()
    other_process = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other_process.execute(LOCKING_BEGIN)
    try:
        writing = asyncio.create_task(_write_one_note(engine))
        # Tried once here, then again on the thread, where it waits for the lock.
        assert await asyncio.to_thread(trace.wait_for_runs, LOCKING_BEGIN, 2, 10)
        assert not writing.done()
    finally:
        other_process.rollback()
        other_process.close()
    await asyncio.wait_for(writing, 10)
    tried, waited = trace.threads_of(LOCKING_BEGIN)
    assert tried == loop_thread != waited
    check = sqlite3.connect(path)
    try:
        assert check.execute("SELECT count(*) FROM notes").fetchone() == (1,)
    finally:
        check.close()
