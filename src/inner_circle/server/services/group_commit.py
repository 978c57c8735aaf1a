"""Group commit: the one transaction owner of the send use case.

Every send, REST ``POST /messages/:chatId`` and the socket's ``sendMessage`` alike, goes
through the app's one :class:`SendBatcher`. While one batch is in the database, new sends
queue; when it has committed, the next batch takes everything queued (up to
``max_batch``). Under light load a batch holds one send and nothing waits; under heavy
load the per-transaction costs (the SQLite write lock, BEGIN/COMMIT, a PostgreSQL WAL
flush, the chat row lock) are paid once per batch instead of once per message.

Guarantees, per send:
- its answer comes only after the commit that stored it;
- a send the use case refuses (not a member ...) gets its own error, the others in the
  batch go ahead;
- if a concurrent send committed one of the batch's client ids first
  (:class:`~inner_circle.server.services.messages.SendRaced`), the batch runs again in a
  new transaction, where that send answers with the stored message;
- if the batch fails before its commit for any other reason, every send is retried alone,
  so each gets its own answer;
- if the commit itself fails, every send in the batch fails (nothing was stored, or, for
  an ambiguous commit, the client's retry with the same ``clientMessageId`` answers with
  the stored message);
- a retry of a send that failed here is announced (``messageReceived``) even when it finds
  the message already stored: a commit that failed ambiguously may have stored it without
  its events, and connected clients would otherwise never hear of it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence

from inner_circle.core.errors import InnerCircleError
from inner_circle.protocol.rest import MessageOut
from inner_circle.server.db.uow import UnitOfWork, UnitOfWorkFactory
from inner_circle.server.services import messages
from inner_circle.server.services.messages import SendRaced, SendRequest, SendResult

__all__ = ["UNSURE_MAX", "SendBatcher", "StoreSends"]

log = logging.getLogger(__name__)

UNSURE_MAX = 10_000  # client ids remembered after a failed send (oldest forgotten first)
RACE_RETRIES = 3  # runs of one batch that lost a client-id race before each send goes alone

StoreSends = Callable[[UnitOfWork, Sequence[SendRequest]], Awaitable[Sequence[SendResult]]]
_Waiting = tuple[SendRequest, "asyncio.Future[SendResult]"]


class SendBatcher:
    """Stores sends in shared transactions; one per app, shared by every edge.

    ``store`` is the use case run inside each transaction (``send_messages``).
    """

    def __init__(
        self,
        uows: UnitOfWorkFactory,
        *,
        store: StoreSends = messages.send_messages,
        max_batch: int = 256,
        remember: int = UNSURE_MAX,
    ) -> None:
        self._uows = uows
        self._store = store
        self._max_batch = max_batch
        self._remember = remember
        self._queue: list[_Waiting] = []
        self._draining = False
        self._task: asyncio.Task[None] | None = None
        # (sender, clientMessageId) of sends that failed here: maybe stored, never announced.
        self._unsure: dict[tuple[uuid.UUID, str], None] = {}

    async def send(self, request: SendRequest) -> tuple[MessageOut, bool]:
        """Store one message (batched with concurrent ones); returns (message, created).

        Raises what ``send_message`` raises (``NotFound`` ...), or the transaction's
        error (``Unavailable`` ...) when the batch could not commit.
        """
        cid = request.body.client_message_id
        key = (request.actor.id, cid) if cid is not None else None
        if key is not None and key in self._unsure:
            request = dataclasses.replace(request, republish=True)
        future: asyncio.Future[SendResult] = asyncio.get_running_loop().create_future()
        self._queue.append((request, future))
        if not self._draining:
            self._draining = True
            self._task = asyncio.create_task(self._drain())
        try:
            result = await future
        except BaseException:
            if key is not None:
                self._unsure[key] = None
                while len(self._unsure) > self._remember:
                    del self._unsure[next(iter(self._unsure))]
            raise
        if isinstance(result, InnerCircleError):
            raise result
        if key is not None:
            self._unsure.pop(key, None)
        return result

    async def send_many(self, requests: Sequence[SendRequest]) -> list[MessageOut]:
        """Several sends queued together (one batch unless the queue is full), in order.

        Raises the first error; the other sends still run to their end.
        """
        answers = await asyncio.gather(*(self.send(request) for request in requests))
        return [message for message, _ in answers]

    async def _drain(self) -> None:
        try:
            while self._queue:
                batch = self._queue[: self._max_batch]
                del self._queue[: self._max_batch]
                await self._run(batch)
        finally:
            self._draining = False

    async def _run(self, batch: list[_Waiting]) -> None:
        requests = [request for request, _ in batch]
        futures = [future for _, future in batch]
        for _ in range(RACE_RETRIES):
            committing = False
            results: Sequence[SendResult] = ()
            try:
                async with self._uows.write() as uow:
                    results = await self._store(uow, requests)
                    committing = True
                    await uow.commit()
                    committing = False
            except SendRaced as exc:  # the winner has committed: the next run finds it
                raced = exc
                continue
            except BaseException as exc:  # every waiting send must get an answer
                if results and not committing:
                    # Committed; only delivering the events failed. Push is best effort.
                    log.exception(
                        "events for %d committed messages were not delivered", len(results)
                    )
                    _answer(futures, results)
                elif committing or isinstance(exc, asyncio.CancelledError) or len(batch) == 1:
                    _fail(futures, exc)
                else:
                    for waiting in batch:
                        await self._run([waiting])
                if isinstance(exc, asyncio.CancelledError):
                    raise
                return
            _answer(futures, results)
            return
        if len(batch) == 1:
            _fail(futures, raced)
            return
        for waiting in batch:
            await self._run([waiting])


def _answer(futures: list[asyncio.Future[SendResult]], results: Sequence[SendResult]) -> None:
    for future, result in zip(futures, results, strict=True):
        if not future.done():
            future.set_result(result)


def _fail(futures: list[asyncio.Future[SendResult]], exc: BaseException) -> None:
    for future in futures:
        if not future.done():
            if isinstance(exc, Exception):
                future.set_exception(exc)
            else:
                future.cancel()
