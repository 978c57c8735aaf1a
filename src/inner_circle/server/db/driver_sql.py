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
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table
from sqlalchemy.engine import Result
from sqlalchemy.ext.asyncio import AsyncSession

__all__ = ["DriverSQL", "as_uuid", "insert_sql"]

_PLACEHOLDER = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")
_ANY = re.compile(r"=\s*ANY\(\s*:([A-Za-z_]\w*)\s*\)")


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

    async def run(self, session: AsyncSession, values: Mapping[str, Any]) -> Result[Any]:
        """Execute once with ``values`` (by placeholder name)."""
        connection = await session.connection()
        dialect = connection.dialect.name
        sql, names = self._render(dialect)
        sqlite = dialect == "sqlite"
        params = tuple(
            _list_to_db(values[name], sqlite)
            if name in self.lists
            else _to_db(values[name], sqlite)
            for name in names
        )
        return await connection.exec_driver_sql(sql, params)

    async def run_many(self, session: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> None:
        """Execute once per row (the driver's executemany); no result."""
        if not rows:
            return
        connection = await session.connection()
        dialect = connection.dialect.name
        sql, names = self._render(dialect)
        sqlite = dialect == "sqlite"
        params = [tuple(_to_db(row[name], sqlite) for name in names) for row in rows]
        await connection.exec_driver_sql(sql, params)  # type: ignore[arg-type]


def insert_sql(
    table: Table,
    *,
    generated: Sequence[str] = (),
    conflict: Sequence[str] = (),
    returning: str = "",
) -> DriverSQL:
    """``INSERT`` of the columns of ``table`` but the ``generated`` ones (placeholders
    named as the columns), skipping a row whose ``conflict`` key is taken."""
    names = [column.name for column in table.columns if column.name not in generated]
    quoted = ", ".join(f'"{name}"' for name in names)
    placeholders = ", ".join(f":{name}" for name in names)
    sql = f"INSERT INTO {table.name} ({quoted}) VALUES ({placeholders})"
    if conflict:
        keys = ", ".join(f'"{name}"' for name in conflict)
        sql += f" ON CONFLICT ({keys}) DO NOTHING"
    if returning:
        sql += f' RETURNING "{returning}"'
    return DriverSQL(sql)


def _to_db(value: Any, sqlite: bool) -> Any:
    if isinstance(value, uuid.UUID):
        return value.hex if sqlite else value
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        naive = value.astimezone(UTC).replace(tzinfo=None)
        return naive.strftime("%Y-%m-%d %H:%M:%S.%f") if sqlite else naive
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
