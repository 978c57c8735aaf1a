"""Inserts that lose a race quietly: ``INSERT … ON CONFLICT DO NOTHING RETURNING``.

Where a unique key decides who wins (a client message id, a username, a private chat's
pair, an invitation code), two transactions may insert the same key at the same moment.
The database keeps one; the other's row is skipped, not an error, and the insert returns
only the rows it stored. The repositories name what a skipped row means; services read
an empty answer as "taken" and never see a driver error. (Synapse's ``simple_upsert``:
insert races are handled once, in storage.)

On PostgreSQL an insert that meets a key a concurrent transaction has not committed yet
waits for it: if that one commits, the row is skipped (and the winner is visible to the
next statement); if it rolls back, the row is stored.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from sqlalchemy import inspect
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

__all__ = ["insert_new", "insert_object", "upsert"]

T = TypeVar("T")


def _insert(session: AsyncSession, model: type[Any]) -> Any:
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(model)
    if dialect == "sqlite":
        return sqlite.insert(model)
    raise NotImplementedError(f"no conflict-aware insert for {dialect}")


async def insert_new(
    session: AsyncSession,
    model: type[T],
    rows: Sequence[Mapping[str, Any]],
    *,
    unique: Sequence[InstrumentedAttribute[Any]] | None = None,
) -> list[T]:
    """Insert ``rows`` (by attribute name) and return the ones stored, as objects of this
    session; a row whose key is already held is skipped.

    ``unique`` names the key that may be taken (the columns of one unique constraint or
    index); any other violation still raises. Without it, any unique key counts.
    Returned objects come in no particular order; match them by a column you chose.
    """
    if not rows:
        return []
    statement = _insert(session, model).on_conflict_do_nothing(
        index_elements=list(unique) if unique is not None else None
    )
    result = await session.scalars(statement.returning(model), list(rows))
    return list(result.all())


async def insert_object(
    session: AsyncSession, draft: T, *, unique: Sequence[InstrumentedAttribute[Any]] | None = None
) -> T | None:
    """Insert a new, unsaved object's attributes (as :func:`insert_new`); the stored object
    (use it, not ``draft``), or None when its key is already held."""
    mapper = inspect(draft).mapper
    row = {
        attr.key: draft.__dict__[attr.key]
        for attr in mapper.column_attrs
        if attr.key in draft.__dict__
    }
    stored = await insert_new(session, type(draft), [row], unique=unique)
    return stored[0] if stored else None


async def upsert(
    session: AsyncSession,
    model: type[Any],
    row: Mapping[str, Any],
    *,
    unique: Sequence[InstrumentedAttribute[Any]],
    update: Sequence[str],
) -> None:
    """Insert ``row``, or, when its ``unique`` key is held, set the ``update`` attributes of
    the row that holds it (one statement; concurrent callers cannot both insert)."""
    statement = _insert(session, model).values(dict(row))
    columns = model.__mapper__.attrs  # attribute name → column, for the excluded row
    statement = statement.on_conflict_do_update(
        index_elements=list(unique),
        set_={
            columns[name].columns[0]: getattr(statement.excluded, columns[name].columns[0].key)
            for name in update
        },
    )
    await session.execute(statement)
