"""Erased text leaves SQLite's files too, not only the table.

"Delete for everyone" (and an edit) rewrites the row, but in WAL mode the old
version of the page stays in the ``-wal`` file, and in the database file until
the next checkpoint copies the new one over it. After a commit that erased text,
this folds the WAL into the database and truncates it (``wal_checkpoint(TRUNCATE)``);
``secure_delete`` (engine.py) zeroes the freed space and pages it leaves behind.

The search index (ADR 0015) needs one more step first: FTS5 deletes are logical, the old
words stay in its index pages until they merge. Unless FTS5's own ``secure-delete`` is on
(SQLite 3.42+), the index is merged (``optimize``) before the checkpoint, which frees those
pages; its cost grows with the index (seconds at a million messages, writers waiting).

It runs off the hot path: a second after the erasing commit, one checkpoint for a
burst of deletions, under the in-process write lock so no writer of ours waits on
SQLite's lock, and with a short busy timeout so a long reader delays only the
checkpoint (it is tried again), never the writers.
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import AbstractAsyncContextManager, nullcontext
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from inner_circle.server.db.engine import BUSY_TIMEOUT_MS
from inner_circle.server.db.models.search import SEARCH_FTS

__all__ = ["WalScrubber"]

log = logging.getLogger(__name__)

DELAY_SECONDS = 1.0  # gathers a burst of deletions into one checkpoint
CHECKPOINT_BUSY_MS = 250  # how long the checkpoint waits for readers before trying later
ATTEMPTS = 5


class WalScrubber:
    """Checkpoints (TRUNCATE) a SQLite database soon after text was erased from it."""

    def __init__(
        self, engine: AsyncEngine, write_lock: asyncio.Lock | None, delay: float = DELAY_SECONDS
    ) -> None:
        self._engine = engine
        self._write_lock = write_lock
        self._delay = delay
        self._wanted = False
        self._task: asyncio.Task[None] | None = None

    def request(self) -> None:
        """Ask for a checkpoint soon (called after a commit that erased text; never waits)."""
        self._wanted = True
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def close(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass

    async def _run(self) -> None:
        failures = 0
        while self._wanted:
            await asyncio.sleep(self._delay * (1 + failures))  # a debounce timer
            self._wanted = False
            try:
                done = await self.checkpoint()
            except Exception:
                log.warning("WAL checkpoint after a deletion failed", exc_info=True)
                done = False
            if done:
                failures = 0
            elif failures + 1 < ATTEMPTS:
                failures += 1
                self._wanted = True
            else:  # the next deletion tries again; closing the database checkpoints too
                log.warning("WAL checkpoint after a deletion kept finding readers; gave up")
                failures = 0

    async def checkpoint(self) -> bool:
        """Fold the WAL into the database and truncate it; False when readers were in the way."""
        lock: AbstractAsyncContextManager[Any] = self._write_lock or nullcontext()
        async with lock, self._engine.connect() as connection:
            raw = (await connection.get_raw_connection()).driver_connection
            assert raw is not None
            await raw.execute(f"PRAGMA busy_timeout={CHECKPOINT_BUSY_MS}")
            try:
                await _purge_search_index(raw)
                cursor = await raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                busy, _, _ = await cursor.fetchone()
                await cursor.close()
            finally:
                await raw.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        return not busy


async def _purge_search_index(raw: Any) -> None:
    """Merge the FTS5 index so that erased words leave its pages (see the module doc)."""
    cursor = await raw.execute(
        "SELECT 1 FROM sqlite_master WHERE name = ?", (f"{SEARCH_FTS}_config",)
    )
    exists = await cursor.fetchone()
    await cursor.close()
    if not exists:
        return
    cursor = await raw.execute(f"SELECT v FROM {SEARCH_FTS}_config WHERE k = 'secure-delete'")
    secure = await cursor.fetchone()
    await cursor.close()
    if secure and int(secure[0]):
        return
    await raw.execute(f"INSERT INTO {SEARCH_FTS}({SEARCH_FTS}) VALUES ('optimize')")
