"""aiosqlite with one trip to the database thread per statement.

aiosqlite runs each sqlite3 call in its own thread and hands the result back to
the event loop. SQLAlchemy's adapter makes four such trips for a query (open a
cursor, execute, fetch, close) and three for a write. Every trip is a queue
hand-off, a thread wake-up, a self-pipe write and two GIL transfers; when the
event loop is busy fanning messages out, the database thread waits up to the
interpreter's switch interval (5 ms) for the GIL on each. With ~10 statements
per message batch this, not SQLite, bounded SQLite throughput
(docs/performance.md).

This cursor does the whole statement (cursor, execute, fetch, close) in a
single function run on aiosqlite's thread: one trip. It uses aiosqlite's
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

__all__ = ["one_hop_dbapi"]

_Outcome = tuple[Any, list[Any] | None, int, int | None]


def _run(conn: sqlite3.Connection, operation: Any, parameters: Any, many: bool) -> _Outcome:
    """Runs on aiosqlite's thread."""
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
        async with self._adapt_connection._execute_mutex:
            outcome: _Outcome = await self._connection._execute(
                _run, self._connection._conn, operation, parameters, many
            )
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
    __slots__ = ()
    _cursor_cls = OneHopCursor


class OneHopDbapi(AsyncAdapt_aiosqlite_dbapi):
    def connect(self, *arg: Any, **kw: Any) -> OneHopConnection:
        adapted = super().connect(*arg, **kw)
        return OneHopConnection(self, adapted._connection)


def one_hop_dbapi() -> OneHopDbapi:
    """The DBAPI module to pass as ``create_async_engine(..., module=...)``."""
    return OneHopDbapi(aiosqlite, sqlite3)
