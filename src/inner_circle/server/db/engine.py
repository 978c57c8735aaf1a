"""Engine and session factory; SQLite gets the pragmas a chat server needs."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from inner_circle.server.db.files import secure_sqlite_files
from inner_circle.server.db.sqlite_onehop import BUSY_TIMEOUT_MS, one_hop_dbapi

__all__ = [
    "BUSY_TIMEOUT_MS",
    "PING_AFTER_IDLE",
    "WRITE_INTENT",
    "create_engine",
    "create_session_factory",
]

PG_CONNECT_TIMEOUT = 5.0  # seconds to open a PostgreSQL connection
PG_COMMAND_TIMEOUT = 10.0  # seconds for one PostgreSQL statement
# An execution option on the writers' engine (db/uow.py): the transaction will write.
WRITE_INTENT = "inner_circle_write"
# A pooled PostgreSQL connection unused for this many seconds is pinged before it is used.
PING_AFTER_IDLE = 1.0
_RETURNED_AT = "inner_circle_returned_at"  # in a pool record's info: time.monotonic()


def create_engine(url: str, *, pool_size: int = 10, echo: bool = False) -> AsyncEngine:
    """Create the async engine for ``url`` (sqlite+aiosqlite or postgresql+asyncpg)."""
    if url.startswith("sqlite"):
        secure_sqlite_files(url)  # private before SQLite creates or opens it (files.py)
        engine = create_async_engine(
            url,
            echo=echo,
            hide_parameters=True,  # errors and logs must never carry message text or hashes
            # check_same_thread: statements that cannot wait for a lock run on the loop's
            # thread (sqlite_onehop.py), never while aiosqlite's thread uses the same
            # connection (a unit of work awaits each statement before the next).
            connect_args={"timeout": 30, "check_same_thread": False},
            module=one_hop_dbapi(),  # one thread trip per statement (sqlite_onehop.py)
        )
        _configure_sqlite(engine)
        return engine
    engine = create_async_engine(
        url,
        echo=echo,
        hide_parameters=True,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_recycle=1800,
        # A database that stops answering (a stalled disk, a network partition) must turn
        # into UNAVAILABLE answers, not requests that hang: asyncpg waits 60 s to connect
        # and forever for a statement by default. Our statements are small; 10 s is ample.
        connect_args={"timeout": PG_CONNECT_TIMEOUT, "command_timeout": PG_COMMAND_TIMEOUT},
    )
    _ping_idle_connections(engine)
    _drop_connections_in_doubt(engine)
    return engine


def _drop_connections_in_doubt(engine: AsyncEngine) -> None:
    """A statement that timed out may still run when the server answers again (a frozen
    disk, a partition): its connection's state is unknown (a BEGIN that arrives late leaves
    it inside a transaction nobody ends), so it is closed rather than pooled again. The
    other pooled connections stay: the server did not go away."""

    @event.listens_for(engine.sync_engine, "handle_error")
    def _on_error(context: Any) -> None:
        if isinstance(context.original_exception, TimeoutError):
            context.is_disconnect = True
            context.invalidate_pool_on_disconnect = False


def _ping_idle_connections(engine: AsyncEngine) -> None:
    """Survive a database restart without restarting the server: a connection that sat in
    the pool for ``PING_AFTER_IDLE`` is pinged before use, and replaced if the ping fails
    (SQLAlchemy's custom pessimistic recipe: ``DisconnectionError`` from ``checkout``).

    ``pool_pre_ping`` would ping before every unit of work: one more round trip each,
    about 0.2 ms of this process's CPU (docs/performance.md, seventh session). A connection
    handed back moments ago was working then; if the database went away since, its first
    statement fails, SQLAlchemy invalidates the whole pool, and that one request answers
    ``UNAVAILABLE``, as every request does while the database is down.
    """

    @event.listens_for(engine.sync_engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info[_RETURNED_AT] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        returned_at = record.info.get(_RETURNED_AT)
        if returned_at is None or time.monotonic() - returned_at < PING_AFTER_IDLE:
            return
        try:
            alive = engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:
            raise DisconnectionError("the pooled connection no longer answers") from exc
        if not alive:
            raise DisconnectionError("the pooled connection no longer answers")


def _configure_sqlite(engine: AsyncEngine) -> None:
    # pysqlite's own transaction handling starts transactions lazily and never for SELECT;
    # take control so every unit of work is one real transaction (SQLAlchemy's documented recipe).
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # FULL: an acknowledged message survives a power cut too, not only a crash (WAL with
        # NORMAL may lose the last commits); measured cost ~6 % at batches of 50.
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        # "Delete for everyone" must not leave the text in freed space or free pages
        # (some builds default to ON, others not); the WAL is handled by scrub.py.
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()

    # A writer takes SQLite's write lock as it begins, waiting up to the busy timeout for
    # another process (the CLI) to finish. Begun deferred, it would read first and then fail
    # at its first write at once: SQLite does not wait for a lock to turn a reading
    # transaction into a writing one (it could deadlock). Holding the lock from the start is
    # also what lets its statements run on the loop's thread (sqlite_onehop.py).
    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        writes = connection.get_execution_options().get(WRITE_INTENT, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if writes else "BEGIN")


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)
