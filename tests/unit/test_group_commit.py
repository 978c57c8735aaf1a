"""The send batcher's failure cases, fast: a fake unit of work and a fake store stand in for
the database (no server). The live counterparts are tests/scale/test_group_commit.py and
tests/delivery/ (real transactions, real clients)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest

from inner_circle.core.actor import Actor
from inner_circle.core.errors import NotFound, Unavailable
from inner_circle.protocol.rest import MessageOut, SendMessageIn
from inner_circle.server.services.group_commit import RACE_RETRIES, SendBatcher
from inner_circle.server.services.messages import SendRaced, SendRequest, SendResult

ANNA = Actor(id=uuid.uuid4(), username="anna", display_name="Anna", is_admin=False)
FAMILY = uuid.uuid4()
SECRET = uuid.uuid4()  # a chat Anna is not in


def send(content: str, cid: str | None = None, chat: uuid.UUID = FAMILY) -> SendRequest:
    return SendRequest(ANNA, SendMessageIn(chat_id=chat, content=content, client_message_id=cid))


@dataclass
class Unit:
    """What the batcher sees of a unit of work: a transaction that commits (or not)."""

    db: FakeDatabase
    staged: dict[tuple[uuid.UUID, str], MessageOut] = field(default_factory=dict)
    committed: bool = False

    async def commit(self) -> None:
        self.db.log.append("commit")
        if self.db.commit_fails is not None:
            if self.db.ambiguous:  # stored, but the answer never came back
                self.db.stored.update(self.staged)
            raise self.db.commit_fails
        self.db.stored.update(self.staged)
        self.committed = True


@dataclass
class FakeDatabase:
    """Sends by (sender, client id); stands in for the messages table and send_messages."""

    stored: dict[tuple[uuid.UUID, str], MessageOut] = field(default_factory=dict)
    batches: list[list[str]] = field(default_factory=list)  # contents, per transaction
    republished: list[str] = field(default_factory=list)
    log: list[str] = field(default_factory=list)
    commit_fails: BaseException | None = None
    ambiguous: bool = False
    events_fail: bool = False
    races: int = 0  # transactions that will lose a client-id race
    gate: asyncio.Event | None = None  # holds the first transaction inside the database
    inside: asyncio.Event = field(default_factory=asyncio.Event)

    @asynccontextmanager
    async def _scope(self) -> AsyncIterator[Unit]:
        unit = Unit(self)
        try:
            yield unit
        finally:
            self.log.append("close")
        if unit.committed and self.events_fail:
            raise RuntimeError("the notifier is down")

    def write(self) -> Any:
        return self._scope()

    async def store(self, unit: Unit, requests: Sequence[SendRequest]) -> list[SendResult]:
        self.batches.append([r.body.content for r in requests])
        self.inside.set()
        if self.gate is not None:
            gate, self.gate = self.gate, None
            await gate.wait()
        if self.races:
            self.races -= 1
            raise SendRaced("a concurrent send won")
        if any(r.body.content == "poison" for r in requests):
            raise RuntimeError("a statement failed")
        results: list[SendResult] = []
        for request in requests:
            if request.body.chat_id != FAMILY:
                results.append(NotFound("Chat not found"))
                continue
            cid = request.body.client_message_id or str(uuid.uuid4())
            key = (request.actor.id, cid)
            earlier = self.stored.get(key) or unit.staged.get(key)
            if earlier is not None:
                if request.republish:
                    self.republished.append(earlier.content)
                results.append((earlier, False))
                continue
            message = MessageOut.model_construct(
                id=uuid.uuid4(), content=request.body.content, client_message_id=cid
            )
            unit.staged[key] = message
            results.append((message, True))
        return results


def batcher(db: FakeDatabase, **options: Any) -> SendBatcher:
    return SendBatcher(db, store=db.store, **options)  # type: ignore[arg-type]


async def answers(sends: SendBatcher, *requests: SendRequest) -> list[Any]:
    return await asyncio.gather(*(sends.send(r) for r in requests), return_exceptions=True)


async def test_concurrent_sends_share_one_transaction_and_are_answered_after_its_commit() -> None:
    db = FakeDatabase()
    sends = batcher(db)

    async def sent(request: SendRequest) -> tuple[MessageOut, bool]:
        answer = await sends.send(request)
        db.log.append(f"answered {request.body.content}")
        return answer

    results = await asyncio.gather(*(sent(send(f"m{i}", f"c{i}")) for i in range(5)))
    assert db.batches == [[f"m{i}" for i in range(5)]]
    assert [(m.content, created) for m, created in results] == [(f"m{i}", True) for i in range(5)]
    assert db.log[:2] == ["commit", "close"]  # no answer before the commit
    assert len(db.stored) == 5


async def test_sends_queue_while_a_batch_is_in_the_database() -> None:
    gate = asyncio.Event()
    db = FakeDatabase(gate=gate)
    sends = batcher(db)
    first = asyncio.create_task(sends.send(send("first")))
    await db.inside.wait()
    later = [asyncio.create_task(sends.send(send(f"later {i}"))) for i in range(3)]
    assert db.batches == [["first"]]
    gate.set()  # the first batch resumes after the three tasks (FIFO) have queued
    await asyncio.gather(first, *later)
    assert db.batches == [["first"], ["later 0", "later 1", "later 2"]]


async def test_max_batch_splits_a_burst() -> None:
    db = FakeDatabase()
    sends = batcher(db, max_batch=2)
    await answers(sends, *(send(f"m{i}") for i in range(5)))
    assert [len(b) for b in db.batches] == [2, 2, 1]


async def test_a_refused_send_fails_alone() -> None:
    db = FakeDatabase()
    sends = batcher(db)
    ok, refused, also_ok = await answers(sends, send("a"), send("b", chat=SECRET), send("c"))
    assert isinstance(refused, NotFound)
    assert ok[1] and also_ok[1]
    assert db.batches == [["a", "b", "c"]]


async def test_a_batch_that_fails_before_its_commit_is_retried_one_send_at_a_time() -> None:
    db = FakeDatabase()
    sends = batcher(db)
    results = await answers(sends, send("a", "ca"), send("poison", "cp"), send("b", "cb"))
    assert results[0][0].content == "a" and results[2][0].content == "b"
    assert isinstance(results[1], RuntimeError)
    assert db.batches == [["a", "poison", "b"], ["a"], ["poison"], ["b"]]
    assert set(db.stored) == {(ANNA.id, "ca"), (ANNA.id, "cb")}


async def test_a_lost_client_id_race_runs_the_whole_batch_again() -> None:
    db = FakeDatabase(races=1)
    winner = MessageOut.model_construct(id=uuid.uuid4(), content="from the other process")
    db.stored[(ANNA.id, "c1")] = winner  # what the concurrent transaction committed
    sends = batcher(db)
    raced, other = await answers(sends, send("retry", "c1"), send("new", "c2"))
    assert raced == (winner, False)
    assert other[0].content == "new" and other[1]
    assert db.batches == [["retry", "new"], ["retry", "new"]]  # still one group, not one by one


async def test_a_race_lost_again_and_again_ends_in_an_answer_for_each_send() -> None:
    db = FakeDatabase(races=RACE_RETRIES + 1)
    sends = batcher(db)
    results = await answers(sends, send("a", "ca"), send("b", "cb"))
    assert [r[0].content for r in results] == ["a", "b"]  # the batch went one send at a time
    assert db.batches[-2:] == [["a"], ["b"]]

    db.races = RACE_RETRIES
    (alone,) = await answers(sends, send("c", "cc"))
    assert isinstance(alone, SendRaced)  # a lone send has nothing left to try


async def test_a_failed_commit_fails_every_send_in_the_batch() -> None:
    db = FakeDatabase(commit_fails=Unavailable("The database is unavailable"))
    sends = batcher(db)
    results = await answers(sends, send("a", "ca"), send("b", "cb"))
    assert all(isinstance(r, Unavailable) for r in results)
    assert db.batches == [["a", "b"]]  # not retried: the commit may have happened
    assert db.stored == {}


async def test_a_retry_after_an_ambiguous_commit_is_announced_once() -> None:
    db = FakeDatabase(commit_fails=Unavailable("connection lost"), ambiguous=True)
    sends = batcher(db)
    (failed,) = await answers(sends, send("hello", "c1"))
    assert isinstance(failed, Unavailable)
    assert (ANNA.id, "c1") in db.stored  # stored, announced to nobody

    db.commit_fails = None
    message, created = await sends.send(send("hello", "c1"))
    assert (message.content, created) == ("hello", False)
    assert db.republished == ["hello"]  # the retry announces it

    await sends.send(send("hello", "c1"))  # acknowledged now: a later retry is quiet
    assert db.republished == ["hello"]


async def test_a_retry_of_an_acknowledged_send_is_not_announced_again() -> None:
    db = FakeDatabase()
    sends = batcher(db)
    first, created = await sends.send(send("hi", "c1"))
    again, created_again = await sends.send(send("hi", "c1"))
    assert created and not created_again and again is first
    assert db.republished == []


async def test_a_refused_send_leaves_nothing_to_announce() -> None:
    db = FakeDatabase()
    sends = batcher(db)
    await sends.send(send("x", "c9"))
    with pytest.raises(NotFound):  # a refusal is a sure answer: nothing was stored by it
        await sends.send(send("x", "c9", chat=SECRET))
    _, created = await sends.send(send("x", "c9"))
    assert not created and db.republished == []


async def test_the_failure_memory_forgets_the_oldest_first() -> None:
    db = FakeDatabase(commit_fails=Unavailable("down"), ambiguous=True)
    sends = batcher(db, remember=2)
    for cid in ("c1", "c2", "c3"):
        await answers(sends, send(cid, cid))
    db.commit_fails = None
    await answers(sends, send("c1", "c1"), send("c2", "c2"), send("c3", "c3"))
    assert db.republished == ["c2", "c3"]  # c1 was forgotten


async def test_committed_sends_are_answered_when_their_events_fail() -> None:
    db = FakeDatabase(events_fail=True)
    sends = batcher(db)
    (message, created), (other, _) = await answers(sends, send("a"), send("b"))
    assert created and (message.content, other.content) == ("a", "b")
    assert db.batches == [["a", "b"]]  # not retried: it committed
