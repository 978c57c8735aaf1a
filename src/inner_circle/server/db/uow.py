"""Unit of work: one session, one transaction, events released only after the commit."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol

from pydantic import BaseModel
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from inner_circle.core.errors import Unavailable
from inner_circle.core.throttle import ReportThrottle
from inner_circle.server.db.driver_sql import DriverSQL, insert_sql
from inner_circle.server.db.engine import WRITE_INTENT
from inner_circle.server.db.models.sync import NEW_ENTRIES, SyncEntry
from inner_circle.server.ports import Notifier, OutgoingEvent

if TYPE_CHECKING:
    from inner_circle.server.context import ServerContext

__all__ = ["READS_ISOLATION", "UnitOfWork", "UnitOfWorkFactory"]

log = logging.getLogger(__name__)


class UnitOfWork:
    """A transaction plus the events it will release when it commits.

    Use cases receive a unit of work, read and write through ``session``, and
    queue events with :meth:`emit`. Only the edge calls :meth:`commit`; the
    events then go to the notifier. If the commit fails, nothing is sent.
    """

    def __init__(
        self,
        session: AsyncSession,
        notifier: Notifier,
        ctx: ServerContext,
        scrubber: Scrubber | None = None,
        on_slow_commit: Callable[[], None] | None = None,
    ) -> None:
        self.session = session
        self.ctx = ctx
        self._notifier = notifier
        self._scrubber = scrubber
        self._on_slow_commit = on_slow_commit
        self._erased = False
        self._events: list[OutgoingEvent] = []
        self._disconnects: list[uuid.UUID] = []
        self._ended_sessions: list[uuid.UUID] = []
        self._after_commit: list[Callable[[], Awaitable[None]]] = []
        self._committed = False
        self.commit_span: tuple[float, float] | None = None  # perf_counter() at its start, end

    def emit(
        self,
        name: str,
        payload: BaseModel | dict[str, Any] | list[Any] | str,
        to: Iterable[uuid.UUID],
        *,
        skip_sid: str | None = None,
        namespace: str = "/",
        extra: dict[str, Any] | None = None,
    ) -> None:
        """Queue ``name`` for every connection of the users ``to``, sent after commit.
        ``extra`` travels to the notifier's wrappers (e.g. a push to plan), not the wire."""
        data = (
            payload.model_dump(mode="json", by_alias=True)
            if isinstance(payload, BaseModel)
            else payload
        )
        self._events.append(
            OutgoingEvent(
                name, data, list(to), skip_sid=skip_sid, namespace=namespace, extra=extra or {}
            )
        )

    def emit_to_everyone(
        self, name: str, payload: BaseModel | str, *, skip_sid: str | None = None
    ) -> None:
        """Queue ``name`` for every signed-in connection (the whole family), sent after commit."""
        data = (
            payload.model_dump(mode="json", by_alias=True)
            if isinstance(payload, BaseModel)
            else payload
        )
        self._events.append(OutgoingEvent(name, data, [], skip_sid=skip_sid, everyone=True))

    def emit_to_sid(self, name: str, payload: BaseModel, sid: str, *, namespace: str = "/") -> None:
        """Queue ``name`` for one connection only (on any server process)."""
        data = payload.model_dump(mode="json", by_alias=True)
        self._events.append(OutgoingEvent(name, data, [], only_sid=sid, namespace=namespace))

    def disconnect_user(self, user_id: uuid.UUID) -> None:
        """Close every live connection of ``user_id`` after commit (their sessions ended)."""
        self._disconnects.append(user_id)

    def disconnect_session(self, session_id: uuid.UUID) -> None:
        """Close the live connections of one sign-in session after commit (it logged out)."""
        self._ended_sessions.append(session_id)

    def after_commit(self, work: Callable[[], Awaitable[None]]) -> None:
        """Run ``work`` once the transaction committed (never if it did not): cleanup
        outside the database, such as deleting files no row refers to any more."""
        self._after_commit.append(work)

    async def commit(self) -> None:
        """Commit; the queued events go out when the unit of work closes. A commit over
        ``SLOW_COMMIT`` seconds is logged with where its time went."""
        started = time.perf_counter()
        entries = self.session.info.pop(NEW_ENTRIES, [])
        erased = any(row["kind"] in ERASING_KINDS for row in entries)
        seal = await _write_sync_log(self.session, entries)
        sealed = time.perf_counter()
        await self.session.commit()
        done = time.perf_counter()
        self._committed = True
        self.commit_span = (started, done)
        self._erased = erased
        if done - started > SLOW_COMMIT:
            self._slow_commit(started, seal, sealed, done, len(entries))

    def _slow_commit(
        self, started: float, seal: _Seal, sealed: float, done: float, entries: int
    ) -> None:
        def ms(a: float, b: float) -> str:
            return f"{(b - a) * 1000:.0f} ms"

        log.warning(
            "commit took %s: flush %s, sync-log lock wait %s, sync-log write %s "
            "(%d entries), database commit %s",
            ms(started, done),
            ms(started, seal.flushed),
            ms(seal.flushed, seal.locked),
            ms(seal.locked, sealed),
            entries,
            ms(sealed, done),
        )
        if self._on_slow_commit is not None:
            self._on_slow_commit()

    async def release_events(self) -> None:
        """Hand committed events to the notifier (called by the scope after its lock is free)."""
        if not self._committed:
            return
        if self._erased and self._scrubber is not None:
            self._erased = False
            self._scrubber.request()
        events, self._events = self._events, []
        disconnects, self._disconnects = self._disconnects, []
        if events:
            await self._notifier.publish(events)
        for user_id in disconnects:
            await self._notifier.disconnect_user(user_id)
        sessions, self._ended_sessions = self._ended_sessions, []
        for session_id in sessions:
            await self._notifier.disconnect_session(session_id)
        works, self._after_commit = self._after_commit, []
        for work in works:
            try:
                await work()
            except Exception:
                log.exception("after-commit work failed")


# Sync-log kinds whose commit replaced a message's text: the old text must leave the
# database's files too (scrub.py).
ERASING_KINDS = frozenset({"delete", "edit"})


class Scrubber(Protocol):
    def request(self) -> None: ...


READS_ISOLATION = "AUTOCOMMIT"  # for readers' sessions on PostgreSQL (UnitOfWorkFactory)
# Any constant works; it only has to be the same in every server process.
SYNC_LOG_LOCK = 2_025_112_401
SLOW_COMMIT = 0.05  # seconds
# A write transaction this long, from asking for it to its end, is logged with its phases
# (the commit's own are logged apart, above SLOW_COMMIT).
SLOW_TRANSACTION = 0.1  # seconds


@dataclass(frozen=True, slots=True)
class _Seal:
    flushed: float  # perf_counter() when the session's other changes were written
    locked: float  # ... and when the sync-log lock was held


async def _write_sync_log(session: AsyncSession, entries: list[dict[str, Any]]) -> _Seal:
    """Write this transaction's sync-log entries, with ids in commit order.

    A cursor is only safe if no change can commit later with a smaller id than one a
    client has already read. On PostgreSQL, writers in different chats run in parallel
    and would draw ids as they insert, so they might commit in another order. So the
    entries are inserted last, under a transaction-level advisory lock held until the
    commit: every committed id is then larger than all ids committed before it. (SQLite
    has one writer at a time, in id order already.) The lock is the last one a
    transaction takes, so it cannot be part of a deadlock. One Core insert for all the
    entries, no ORM objects: this runs in every write transaction.
    """
    await session.flush()
    flushed = time.perf_counter()
    if not entries:
        return _Seal(flushed, flushed)
    if session.get_bind().dialect.name == "postgresql":
        await _SYNC_LOG_LOCK.run(session, {"key": SYNC_LOG_LOCK})
    locked = time.perf_counter()
    await _WRITE_SYNC_LOG.run_many(session, entries)
    return _Seal(flushed, locked)


# Straight to the driver (db/driver_sql.py): these run in every write transaction.
_SYNC_LOG_LOCK = DriverSQL("SELECT pg_advisory_xact_lock(:key)")
_WRITE_SYNC_LOG = insert_sql(SyncEntry.__table__, generated=("id",))


class _UnitOfWorkScope(AbstractAsyncContextManager[UnitOfWork]):
    def __init__(self, factory: UnitOfWorkFactory, write: bool) -> None:
        self._factory = factory
        self._write = write
        self._uow: UnitOfWork | None = None
        self._locked = False
        self._entered = self._turn = 0.0  # perf_counter(): asked for, and its write turn came

    async def __aenter__(self) -> UnitOfWork:
        self._entered = self._turn = time.perf_counter()
        if self._write and self._factory.write_lock is not None:
            await self._factory.write_lock.acquire()
            self._locked = True
            self._turn = time.perf_counter()
        session = self._factory.sessionmaker(
            bind=self._factory.write_bind if self._write else self._factory.read_bind
        )
        self._uow = UnitOfWork(
            session,
            self._factory.notifier,
            self._factory.ctx,
            self._factory.scrubber,
            self._factory.on_slow_commit,
        )
        return self._uow

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._uow is not None
        try:
            # Rolls back whatever was not committed and returns the connection: one trip
            # through SQLAlchemy's greenlet, not a rollback and then a close.
            await self._uow.session.close()
        except Exception:
            pass
        finally:
            if self._locked and self._factory.write_lock is not None:
                self._factory.write_lock.release()
        span = self._uow.commit_span
        if (
            self._write
            and span is not None
            and time.perf_counter() - self._entered > SLOW_TRANSACTION
        ):
            self._factory.slow_transaction(self._entered, self._turn, span)
        # Outside the write lock: delivering events must not hold up other writers, and a
        # disconnect runs handlers that write (last seen).
        await self._uow.release_events()
        if exc is not None and is_database_unavailable(exc):
            raise Unavailable("The database is unavailable; try again shortly") from exc


# SQLite reports a missing schema as an OperationalError too; that is not an outage.
SCHEMA_FLAWS = ("no such table", "no such column", "syntax error", "has no column")


def is_database_unavailable(exc: BaseException) -> bool:
    """True for errors that mean the database cannot be reached (not a bad query)."""
    if isinstance(exc, OperationalError):
        text = str(exc.orig).lower()
        return not any(flaw in text for flaw in SCHEMA_FLAWS)
    if isinstance(exc, InterfaceError):
        return True
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    if isinstance(exc, DBAPIError) and _is_outage_sqlstate(getattr(exc.orig, "sqlstate", None)):
        return True
    return isinstance(exc, (ConnectionError, OSError))


def _is_outage_sqlstate(sqlstate: object) -> bool:
    # PostgreSQL: class 08 is "connection exception"; 57P01-57P03 are a server shutting
    # down, crashed, or still starting up ("the database system is starting up" right
    # after a restart) — every one of them goes away by waiting, so they are outages.
    if not isinstance(sqlstate, str):
        return False
    return sqlstate.startswith("08") or sqlstate in {"57P01", "57P02", "57P03"}


class UnitOfWorkFactory:
    """Opens units of work. On SQLite, writers take turns inside this process.

    SQLite allows one writer at a time; letting two transactions race for the
    write lock ends in ``database is locked`` errors, so writes queue here
    instead (reads never wait).
    """

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        notifier: Notifier,
        ctx: ServerContext,
        *,
        serialise_writes: bool,
    ) -> None:
        self.sessionmaker = sessionmaker
        engine = sessionmaker.kw["bind"]
        # Writers' sessions: on SQLite their transactions begin IMMEDIATE (engine.py).
        self.write_bind = engine.execution_options(**{WRITE_INTENT: True})
        # Readers' sessions on PostgreSQL run each statement on its own, without BEGIN and
        # ROLLBACK: at READ COMMITTED every statement takes a fresh snapshot anyway, so the
        # transaction bought nothing but two round trips (ADR 5, seventh session). A reader
        # that needs one asks for it (``repositories/search.py``). On SQLite a reader's
        # BEGIN costs no trip and gives its statements one snapshot (WAL), so it stays.
        self.read_bind = (
            engine.execution_options(isolation_level=READS_ISOLATION)
            if engine.dialect.name == "postgresql"
            else engine
        )
        self.notifier = notifier
        self.ctx = ctx
        self.write_lock = asyncio.Lock() if serialise_writes else None
        # Set by the app on SQLite: told after a commit that erased message text.
        self.scrubber: Scrubber | None = None
        # Set by the app: told of each commit over SLOW_COMMIT (a metric).
        self.on_slow_commit: Callable[[], None] | None = None
        # Set by the app: told of each write transaction over SLOW_TRANSACTION (a metric).
        self.on_slow_transaction: Callable[[], None] | None = None
        self._slow_reports = ReportThrottle()

    def slow_transaction(self, entered: float, turn: float, commit: tuple[float, float]) -> None:
        """Log a committed write transaction over SLOW_TRANSACTION with where its time
        went: waiting for this process's write turn (SQLite's writers take turns), its
        statements and use case (a statement waiting for a row lock or for the database
        to get a CPU, or the event loop busy with other work between them), and the commit
        (its phases are logged apart when it is slow itself)."""
        ended = time.perf_counter()
        total = (ended - entered) * 1000
        if self.on_slow_transaction is not None:
            self.on_slow_transaction()
        more = self._slow_reports.admit(total, ended)
        if more is None:
            return
        log.warning(
            "write transaction took %.0f ms: waiting for this process's write turn %.0f ms, "
            "statements and use case %.0f ms, commit %.0f ms%s",
            total,
            (turn - entered) * 1000,
            (commit[0] - turn) * 1000,
            (commit[1] - commit[0]) * 1000,
            more,
        )

    def write(self) -> _UnitOfWorkScope:
        return _UnitOfWorkScope(self, write=True)

    def read(self) -> _UnitOfWorkScope:
        return _UnitOfWorkScope(self, write=False)
