"""aiosqlite with one trip to the database thread per statement.

aiosqlite runs each sqlite3 call in its own thread and hands the result back to
the event loop. SQLAlchemy's adapter makes four such trips for a query (open a
cursor, execute, fetch, close) and three for a write. Every trip is a queue
hand-off, a thread wake-up, a self-pipe write and two GIL transfers; when the
event loop is busy fanning messages out, the database thread waits up to the
interpreter's switch interval (5 ms) for the GIL on each. With ~10 statements
per message batch this, not SQLite, bounded SQLite throughput
(docs/performance.md).

This cursor does the whole statement (cursor, execute, fetch, close) in a single
function: one trip to aiosqlite's thread, or none. A statement that cannot wait for a lock
runs on the event loop's thread itself (ADR 5's fourth-session amendment): a read (readers
never wait in WAL mode), a reader's ``BEGIN`` (it takes no lock), and any statement of a
transaction that holds the write lock (a writer begins ``IMMEDIATE``, ``engine.py``).
``BEGIN IMMEDIATE`` itself, which may wait for another process's lock, is first tried here
without waiting (seventh session: the lock is almost always free; this process's writers take
turns before they begin, ``db/uow.py``) and goes to the thread only if the lock is taken; a
write outside such a transaction and the commit (its ``fsync``) go to the thread; so does a rollback while a
call sent there may still be running, else it runs on the loop's thread too. It uses aiosqlite's
``Connection._execute`` and ``_conn`` (stable since 0.17; the version range is
pinned in pyproject.toml) and is passed to SQLAlchemy through the documented
``module=`` engine argument. Server-side cursors keep SQLAlchemy's own class.
"""

from __future__ import annotations

import collections
import sqlite3
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.util import EMPTY_DICT

__all__ = ["BUSY_TIMEOUT_MS", "OneHopConnection", "inline", "one_hop_dbapi", "run_statement"]

BUSY_TIMEOUT_MS = 10000  # how long a SQLite statement waits for another process's lock

_Outcome = tuple[Any, list[Any] | None, int, int | None]
_LOCKING_BEGIN = "BEGIN IMMEDIATE"
_DEFERRED_BEGIN = "BEGIN"  # takes no lock


def inline(operation: str, holds_write_lock: bool) -> bool:
    """Whether the statement cannot wait for a lock (so may run on the loop's thread)."""
    return (
        holds_write_lock
        or operation == _DEFERRED_BEGIN
        or operation.lstrip()[:6].upper() == "SELECT"
    )


def run_statement(
    conn: sqlite3.Connection, operation: Any, parameters: Any, many: bool
) -> _Outcome:
    """The whole statement on ``conn``, on whichever thread calls it."""
    cursor = conn.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        elif parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else None
        return description, rows, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


def begin_unless_busy(conn: sqlite3.Connection) -> bool:
    """``BEGIN IMMEDIATE`` without waiting for the lock: False if another connection holds it."""
    conn.execute("PRAGMA busy_timeout = 0")
    try:
        conn.execute(_LOCKING_BEGIN)
    except sqlite3.OperationalError as exc:
        if exc.sqlite_errorcode != sqlite3.SQLITE_BUSY:
            raise
        return False
    finally:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    return True


class OneHopCursor(AsyncAdapt_aiosqlite_cursor):
    __slots__ = ("_description", "_lastrowid", "_rowcount", "arraysize")

    def __init__(self, adapt_connection: Any) -> None:
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._cursor = None
        self._soft_closed_memoized = EMPTY_DICT
        self._rows = collections.deque()
        self._description: Any = None
        self._rowcount = -1
        self._lastrowid: int | None = None
        self.arraysize = 1

    @property
    def description(self) -> Any:
        return self._description

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self) -> Any:
        return self._lastrowid

    async def _async_soft_close(self) -> None:
        return None

    def close(self) -> None:
        self._rows.clear()

    async def _run(self, operation: Any, parameters: Any, many: bool) -> None:
        adapted = self._adapt_connection
        outcome: _Outcome
        if inline(operation, adapted.holds_write_lock):
            outcome = run_statement(self._connection._conn, operation, parameters, many)
        elif (
            operation == _LOCKING_BEGIN
            and adapted._thread_done[0]  # nothing of this connection's runs on the thread
            and begin_unless_busy(self._connection._conn)
        ):
            adapted.holds_write_lock = True
            outcome = (None, None, -1, None)
        else:
            async with adapted._execute_mutex:
                outcome = await self._connection._execute(
                    run_statement, self._connection._conn, operation, parameters, many
                )
            if operation == _LOCKING_BEGIN:
                adapted.holds_write_lock = True
        self._description, rows, self._rowcount, self._lastrowid = outcome
        self._rows = collections.deque(rows) if rows is not None else collections.deque()

    async def _execute_async(self, operation: Any, parameters: Any) -> Any:
        await self._run(operation, parameters, False)

    async def _executemany_async(self, operation: Any, seq_of_parameters: Any) -> Any:
        await self._run(operation, seq_of_parameters, True)

    def nextset(self) -> None:
        return None

    def setinputsizes(self, *inputsizes: Any) -> None:
        return None


class OneHopConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ("_thread_done", "holds_write_lock")
    _cursor_cls = OneHopCursor

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.holds_write_lock = False  # from a successful BEGIN IMMEDIATE to its end
        # Whether the last call sent to aiosqlite's thread has finished there (its queue is
        # first in, first out, with one worker: then every earlier one has too). Set on that
        # thread, so it holds even when the caller that awaited the call was cancelled.
        self._thread_done = [True]
        through_thread = self._connection._execute

        async def tracked(function: Any, *args: Any, **kwargs: Any) -> Any:
            done = [False]
            self._thread_done = done

            def call() -> Any:
                try:
                    return function(*args, **kwargs)
                finally:
                    done[0] = True

            return await through_thread(call)

        # Every trip to the thread (statements, commit, rollback, close) goes through it.
        self._connection._execute = tracked  # type: ignore[method-assign]

    def commit(self) -> None:
        self.holds_write_lock = False
        super().commit()

    def rollback(self) -> None:
        self.holds_write_lock = False
        if self._thread_done[0] and self._connection._connection is not None:
            # Nothing is running on aiosqlite's thread: a rollback writes nothing to disk,
            # so it runs here, without the trip (every read-only request ends with one).
            try:
                self._connection._connection.rollback()
            except Exception as error:
                self._handle_exception(error)
            return
        # A statement sent to the thread by a caller that was then cancelled may still be
        # running there: the rollback queues behind it rather than meet it on the connection.
        super().rollback()


class OneHopDbapi(AsyncAdapt_aiosqlite_dbapi):
    def connect(self, *arg: Any, **kw: Any) -> OneHopConnection:
        adapted = super().connect(*arg, **kw)
        return OneHopConnection(self, adapted._connection)


def one_hop_dbapi() -> OneHopDbapi:
    """The DBAPI module to pass as ``create_async_engine(..., module=...)``."""
    return OneHopDbapi(aiosqlite, sqlite3)
