"""Hot-path statements run straight on the database driver, in the unit of work's transaction.

SQLAlchemy's execution of a statement (cache lookup, execution context, ORM compile
state, result processing) costs this machine about 200 µs of CPU beyond the driver's own
140 µs; the send path runs eight or nine statements per transaction, so with batches of
one most of a message's cost was that (docs/performance.md, round 2). A statement here is
written once, with ``:name`` placeholders, rendered once per dialect, and run with
``exec_driver_sql`` on the session's connection: the same transaction and the same
engine events (the slow-commit timing), no compilation, no ORM objects.

Values are converted as the models' column types store them (``db/types.py``): naive UTC
timestamps (SQLite: text ``YYYY-MM-DD HH:MM:SS.ffffff``), UUIDs (SQLite: 32 hex digits),
booleans (SQLite: 0/1), JSON as text. Only the repositories use this, for statements whose
SQL is the same on both databases, with one exception: a list is matched with
``column = ANY(:name)`` (PostgreSQL's array form, one parameter whatever the length),
which SQLite runs as ``column IN (SELECT value FROM json_each(?))`` with the list as JSON.

They bypass SQLAlchemy's execution too (ADR 5's fourth-session amendment). On SQLite they
run on the event loop's own thread, straight on the ``sqlite3`` connection: a trip to
aiosqlite's thread and back (a queue hand-off, two thread wake-ups, a self-pipe write) and
SQLAlchemy's execution cost more than the statement, a point lookup or a row insert in the
page cache. None of them waits for a lock: reads never do in WAL mode, and a writer's
transaction took SQLite's write lock as it began (``BEGIN IMMEDIATE`` on aiosqlite's thread,
``engine.py``); a write outside such a transaction goes to the thread. The commit, with its
``fsync``, stays on the thread too. On PostgreSQL they run on asyncpg's connection itself,
inside the transaction SQLAlchemy's adapter keeps. Errors are SQLAlchemy's either way, and
statement listeners are told of every statement.
"""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from inner_circle.server.db.sqlite_onehop import OneHopConnection, inline, run_statement
from inner_circle.server.db.types import as_utc

__all__ = ["DriverSQL", "Rows", "as_json", "as_time", "as_uuid", "insert_sql"]

_PLACEHOLDER = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")
_ANY = re.compile(r"=\s*ANY\(\s*:([A-Za-z_]\w*)\s*\)")
_CONNECTION = "inner_circle.connection"  # the key in a session's ``info``


class Rows:
    """A statement's rows as the driver gave them (tuples of driver values)."""

    __slots__ = ("_rows",)

    def __init__(self, rows: Sequence[Any]) -> None:
        self._rows = rows

    def all(self) -> list[Any]:
        return list(self._rows)

    def first(self) -> Any:
        return self._rows[0] if self._rows else None

    def scalars(self) -> list[Any]:
        return [row[0] for row in self._rows]


class DriverSQL:
    """One statement with ``:name`` placeholders."""

    def __init__(self, sql: str) -> None:
        self.sql = sql
        self.names = _PLACEHOLDER.findall(sql)
        self.lists = frozenset(_ANY.findall(sql))
        self._rendered: dict[str, tuple[str, tuple[str, ...]]] = {}

    def _render(self, dialect: str) -> tuple[str, tuple[str, ...]]:
        rendered = self._rendered.get(dialect)
        if rendered is None:
            if dialect == "sqlite":  # qmark: one value per placeholder, in order
                sql = _ANY.sub(r"IN (SELECT value FROM json_each(:\1))", self.sql)
                rendered = (_PLACEHOLDER.sub("?", sql), tuple(self.names))
            else:  # asyncpg: $n, a name used twice is one parameter
                order = tuple(dict.fromkeys(self.names))
                number = {name: f"${i}" for i, name in enumerate(order, 1)}
                rendered = (_PLACEHOLDER.sub(lambda m: number[m.group(1)], self.sql), order)
            self._rendered[dialect] = rendered
        return rendered

    async def run(self, session: AsyncSession, values: Mapping[str, Any]) -> Rows:
        """Execute once with ``values`` (by placeholder name)."""
        connection = await _connection(session)
        dialect = connection.dialect.name
        sql, names = self._render(dialect)
        sqlite = dialect == "sqlite"
        params = tuple(
            _list_to_db(values[name], sqlite)
            if name in self.lists
            else _to_db(values[name], sqlite)
            for name in names
        )
        if sqlite:
            return Rows(await self._sqlite(connection, sql, params, many=False))
        return Rows(await _asyncpg(connection, sql, params, many=False))

    async def run_many(self, session: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> None:
        """Execute once per row (the driver's executemany); no result."""
        if not rows:
            return
        connection = await _connection(session)
        dialect = connection.dialect.name
        sql, names = self._render(dialect)
        sqlite = dialect == "sqlite"
        params = [tuple(_to_db(row[name], sqlite) for name in names) for row in rows]
        if sqlite:
            await self._sqlite(connection, sql, params, many=True)
        elif len(params) == 1:  # asyncpg's executemany costs twice a plain statement's CPU
            await _asyncpg(connection, sql, params[0], many=False)
        else:
            await _asyncpg(connection, sql, params, many=True)

    async def _sqlite(
        self, connection: AsyncConnection, sql: str, params: Any, many: bool
    ) -> list[Any]:
        sync = connection.sync_connection
        assert sync is not None
        adapted: OneHopConnection = sync.connection.dbapi_connection  # type: ignore[assignment]
        if not inline(sql, adapted.holds_write_lock):
            # A write outside a writer's transaction may wait for the lock: on the thread.
            result = await connection.exec_driver_sql(sql, params)
            return result.all() if result.returns_rows else []
        _tell_listeners(sync, sql, params, many)
        try:
            rows = run_statement(adapted._connection._conn, sql, params, many)[1]
        except sqlite3.Error as exc:
            raise DBAPIError.instance(
                sql, params, exc, sqlite3.Error, hide_parameters=True, dialect=sync.dialect
            ) from exc
        return rows or []


async def _connection(session: AsyncSession) -> AsyncConnection:
    """The session's connection in its current transaction: asked of the session once per
    transaction (each ask costs more than a statement on the loop's thread)."""
    transaction = session.sync_session.get_transaction()
    known = session.info.get(_CONNECTION)
    if known is not None and transaction is not None and known[0] is transaction:
        return known[1]  # type: ignore[no-any-return]
    connection = await session.connection()
    session.info[_CONNECTION] = (session.sync_session.get_transaction(), connection)
    return connection


async def _asyncpg(connection: AsyncConnection, sql: str, params: Any, many: bool) -> Any:
    """On asyncpg's connection itself, inside SQLAlchemy's transaction: its adapter begins
    the transaction lazily, at its own first statement, so this begins it when needed;
    errors come out as SQLAlchemy's would (``Unavailable`` for an outage, ``db/uow.py``)."""
    sync = connection.sync_connection
    assert sync is not None
    adapted: Any = sync.connection.dbapi_connection
    _tell_listeners(sync, sql, params, many)
    async with adapted._execute_mutex:
        try:
            try:
                if adapted._transaction is None:
                    await adapted._start_transaction()  # raises the adapter's DBAPI error
                if many:
                    await adapted._connection.executemany(sql, params)
                    return []
                return await adapted._connection.fetch(sql, *params)
            except adapted.dbapi.Error:
                raise
            except asyncio.CancelledError:
                # Abandoned mid-statement: not pooled again, as SQLAlchemy's own statements do.
                if not sync.invalidated:
                    sync.invalidate()
                raise
            except TimeoutError as timeout:  # the adapter would let it through as it is
                # The statement may still run once the server answers again: where the
                # connection stands is unknown, so it is not used again (engine.py).
                error = OperationalError(
                    sql, params, timeout, hide_parameters=True, connection_invalidated=True
                )
                if not sync.invalidated:
                    sync.invalidate(error)
                raise error from timeout
            except Exception as error:
                adapted._handle_exception(error)  # raises the adapter's DBAPI error
                raise
        except adapted.dbapi.Error as translated:
            lost = sync.dialect.is_disconnect(translated, adapted, None)
            error = DBAPIError.instance(
                sql,
                params,
                translated,
                adapted.dbapi.Error,
                hide_parameters=True,
                connection_invalidated=lost,
                dialect=sync.dialect,
            )
            if lost and not sync.invalidated:
                # A lost connection (the server restarted, a network cut) is handled as
                # SQLAlchemy handles it (``Connection._handle_dbapi_exception``): every pooled
                # connection opened before now is replaced at its next use, this one at
                # once, and the unit of work answers UNAVAILABLE, not an internal error.
                raw = sync.connection
                sync.engine.pool._invalidate(raw, error)
                sync.invalidate(error)
            raise error from translated


def _tell_listeners(sync: Connection, sql: str, params: Any, many: bool) -> None:
    # Statement listeners (tests that count statements) see these statements too.
    if sync._has_events or sync.engine._has_events:
        sync.dispatch.before_cursor_execute(sync, None, sql, params, None, many)


def insert_sql(
    table: Table,
    *,
    generated: Sequence[str] = (),
    conflict: Sequence[str] = (),
    returning: str = "",
    rows: int = 1,
) -> DriverSQL:
    """``INSERT`` of the columns of ``table`` but the ``generated`` ones (placeholders
    named as the columns), skipping a row whose ``conflict`` key is taken. With ``rows``
    above one, one statement of that many rows: placeholders ``:<column>_<row>``
    (:func:`row_values`)."""
    names = [column.name for column in table.columns if column.name not in generated]
    quoted = ", ".join(f'"{name}"' for name in names)
    suffixes = [""] if rows == 1 else [f"_{row}" for row in range(rows)]
    values = ", ".join(
        "(" + ", ".join(f":{name}{suffix}" for name in names) + ")" for suffix in suffixes
    )
    sql = f"INSERT INTO {table.name} ({quoted}) VALUES {values}"
    if conflict:
        keys = ", ".join(f'"{name}"' for name in conflict)
        sql += f" ON CONFLICT ({keys}) DO NOTHING"
    if returning:
        sql += f' RETURNING "{returning}"'
    return DriverSQL(sql)


def row_values(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The values of ``rows`` for an :func:`insert_sql` statement of that many rows."""
    return {
        f"{name}_{row}": value for row, values in enumerate(rows) for name, value in values.items()
    }


def _to_db(value: Any, sqlite: bool) -> Any:
    if isinstance(value, uuid.UUID):
        return value.hex if sqlite else value
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        naive = (value if value.tzinfo is UTC else value.astimezone(UTC)).replace(tzinfo=None)
        # SQLAlchemy's SQLite format, YYYY-MM-DD HH:MM:SS.ffffff (isoformat: a tenth of
        # strftime's time)
        return naive.isoformat(" ", "microseconds") if sqlite else naive
    if isinstance(value, bool):
        return int(value) if sqlite else value
    if isinstance(value, dict | list):
        return json.dumps(value)
    return value


def _list_to_db(values: Sequence[Any], sqlite: bool) -> Any:
    converted = [_to_db(value, sqlite) for value in values]
    return json.dumps(converted) if sqlite else converted


def as_uuid(value: Any) -> uuid.UUID:
    """A UUID column's value as the driver gives it (SQLite: hex text; asyncpg: its own
    UUID class) as a plain ``uuid.UUID``."""
    if type(value) is uuid.UUID:
        return value
    if isinstance(value, str):
        return uuid.UUID(hex=value)
    return uuid.UUID(bytes=value.bytes)


def as_time(value: Any) -> datetime:
    """A timestamp column's value as the driver gives it (SQLite: text in SQLAlchemy's
    format; asyncpg: a naive datetime) as an aware UTC datetime, as ``UTCDateTime`` reads it."""
    return as_utc(datetime.fromisoformat(value) if isinstance(value, str) else value)


def as_json(value: Any) -> Any:
    """A JSON column's value as the driver gives it (text on both) as Python values."""
    return json.loads(value) if isinstance(value, str | bytes) else value
