"""Statements run straight on the driver (``db/driver_sql.py``) store what SQLAlchemy's types
would: a message sent alone (one ``INSERT … RETURNING``) and one sent in a batch (the driver's
executemany) read back alike through the ORM, on SQLite and PostgreSQL, and compare in the
same order."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from inner_circle.core.errors import Unavailable
from inner_circle.protocol.rest import SendMessageIn
from inner_circle.server.db.driver_sql import DriverSQL, as_uuid
from inner_circle.server.db.models import ChatParticipant, Message, SyncEntry, User
from inner_circle.server.services import messages
from tests.delivery.harness import wait_until
from tests.services.conftest import World
from tests.services.test_insert_races import family_chat_id
from tests.support import POSTGRES


def test_placeholders_render_per_dialect() -> None:
    statement = DriverSQL("SELECT :a::int, x FROM t WHERE y = :b OR z = :a")
    assert statement._render("sqlite") == (
        "SELECT ?::int, x FROM t WHERE y = ? OR z = ?",
        ("a", "b", "a"),
    )
    assert statement._render("postgresql") == (
        "SELECT $1::int, x FROM t WHERE y = $2 OR z = $1",
        ("a", "b"),
    )


def test_a_list_matches_with_any_on_postgresql_and_json_each_on_sqlite() -> None:
    statement = DriverSQL('SELECT x FROM t WHERE "id" = ANY(:ids) AND y = :y')
    assert statement.lists == {"ids"}
    assert statement._render("sqlite") == (
        'SELECT x FROM t WHERE "id" IN (SELECT value FROM json_each(?)) AND y = ?',
        ("ids", "y"),
    )
    assert statement._render("postgresql") == (
        'SELECT x FROM t WHERE "id" = ANY($1) AND y = $2',
        ("ids", "y"),
    )


async def test_a_list_of_ids_finds_exactly_those_rows(world: World) -> None:
    anna = await world.member("anna")
    ben = await world.member("ben")
    find = DriverSQL('SELECT "id" FROM users WHERE "id" = ANY(:ids)')

    async def found(uow: Any, ids: list[uuid.UUID]) -> set[uuid.UUID]:
        return {as_uuid(row[0]) for row in (await find.run(uow.session, {"ids": ids})).all()}

    assert await world.run(lambda uow: found(uow, [anna.id, uuid.uuid4()])) == {anna.id}
    assert await world.run(lambda uow: found(uow, [anna.id, ben.id])) == {anna.id, ben.id}
    assert await world.run(lambda uow: found(uow, [uuid.uuid4()])) == set()


async def test_a_message_sent_alone_reads_back_as_one_sent_in_a_batch(world: World) -> None:
    anna = await world.member("anna")
    ben = await world.member("ben")
    chat_id = await family_chat_id(world, anna)

    def body(content: str) -> SendMessageIn:
        return SendMessageIn(chat_id=chat_id, content=content, client_message_id=str(uuid.uuid4()))

    async def alone(uow: Any) -> Any:
        return await messages.send_messages(uow, [messages.SendRequest(anna, body("alone"))])

    async def batch(uow: Any) -> Any:
        requests = [
            messages.SendRequest(anna, body("first")),
            messages.SendRequest(ben, body("two")),
        ]
        return await messages.send_messages(uow, requests)

    before = datetime.now(UTC)
    [(single, created)] = await world.run(alone)
    batched = [out for out, _ in await world.run(batch)]
    assert created and single.sender.display_name == "anna"

    async def read(uow: Any) -> Any:
        rows = (await uow.session.scalars(select(Message).where(Message.chat_id == chat_id))).all()
        markers = (
            await uow.session.scalars(
                select(ChatParticipant).where(ChatParticipant.chat_id == chat_id)
            )
        ).all()
        log = (await uow.session.scalars(select(SyncEntry).order_by(SyncEntry.id))).all()
        stored = await uow.session.execute(
            text('SELECT "createdAt" FROM messages WHERE "chatId" = :c ORDER BY seq'),
            {"c": chat_id.hex if uow.session.get_bind().dialect.name == "sqlite" else chat_id},
        )
        return rows, markers, log, [r[0] for r in stored]

    rows, markers, log, raw = await world.run(read)
    by_content = {m.content: m for m in rows if m.content in ("alone", "first", "two")}
    mine, theirs = by_content["alone"], by_content["first"]
    assert mine.id == single.id and isinstance(mine.id, uuid.UUID)
    assert mine.created_at.tzinfo is not None and mine.created_at >= before.replace(microsecond=0)
    assert type(mine.created_at) is type(theirs.created_at)
    assert mine.created_at < theirs.created_at  # the same format: stored times compare right
    assert mine.content_is_fallback is False and mine.kind == "text"
    assert [mine.seq, theirs.seq, by_content["two"].seq] == [
        single.seq,
        batched[0].seq,
        batched[1].seq,
    ]
    assert sorted(raw) == raw  # stored as text on SQLite: driver and SQLAlchemy alike
    read_marks = {p.user_id: p.last_read_seq for p in markers}
    assert read_marks[anna.id] == batched[0].seq and read_marks[ben.id] == batched[1].seq
    entries = [(e.kind, e.message_id) for e in log if e.message_id is not None]
    assert entries[-3:] == [
        ("message", single.id),
        ("message", batched[0].id),
        ("message", batched[1].id),
    ]


async def test_a_batch_tells_a_retry_from_a_client_id_another_member_used(world: World) -> None:
    """The batch's check for client ids sent before matches senders and client ids as two
    lists: a pair that only crosses (anna's id, ben's sender) is not a retry."""
    anna = await world.member("anna")
    ben = await world.member("ben")
    chat_id = await family_chat_id(world, anna)

    def request(actor: Any, content: str, cid: str) -> messages.SendRequest:
        body = SendMessageIn(chat_id=chat_id, content=content, client_message_id=cid)
        return messages.SendRequest(actor, body)

    async def send(uow: Any, *requests: messages.SendRequest) -> Any:
        return await messages.send_messages(uow, list(requests))

    [(first, _)] = await world.run(lambda uow: send(uow, request(anna, "anna's", "x")))
    answers = await world.run(
        lambda uow: send(
            uow, request(ben, "ben's", "x"), request(anna, "again", "x"), request(anna, "new", "y")
        )
    )
    (bens, ben_created), (retry, retry_created), (new, new_created) = answers
    assert ben_created and bens.content == "ben's" and bens.seq == first.seq + 1
    assert not retry_created and retry.id == first.id and retry.content == "anna's"
    assert new_created and new.seq == first.seq + 2


async def test_a_statement_first_in_its_unit_of_work_is_undone_by_its_rollback(
    world: World,
) -> None:
    """Straight on the driver (asyncpg's connection, SQLite's on the loop's thread), the first
    statement still runs inside the unit of work's transaction: a failed unit of work leaves
    nothing behind."""
    anna = await world.member("anna")
    rename = DriverSQL('UPDATE users SET "displayName" = :name WHERE "id" = :id')

    class Failed(Exception):
        pass

    async def rename_then_fail(uow: Any) -> None:
        await rename.run(uow.session, {"name": "Renamed", "id": anna.id})
        raise Failed

    async def shown_name(uow: Any) -> Any:
        return await uow.session.scalar(select(User.display_name).where(User.id == anna.id))

    assert await world.run(shown_name) is None
    with pytest.raises(Failed):
        await world.run(rename_then_fail)
    assert await world.run(shown_name) is None
    await world.run(lambda uow: rename.run(uow.session, {"name": "Kept", "id": anna.id}))
    assert await world.run(shown_name) == "Kept"


async def test_a_failing_statement_raises_sqlalchemys_error_and_the_next_unit_of_work_works(
    world: World,
) -> None:
    anna = await world.member("anna")
    await world.member("ben")
    taken = DriverSQL('UPDATE users SET "username" = :name WHERE "id" = :id')

    async def take_bens_name(uow: Any) -> None:
        await taken.run(uow.session, {"name": "ben", "id": anna.id})

    with pytest.raises(IntegrityError):
        await world.run(take_bens_name)
    names = DriverSQL('SELECT "username" FROM users WHERE "id" = ANY(:ids)')

    async def read(uow: Any) -> list[Any]:
        return (await names.run(uow.session, {"ids": [anna.id]})).scalars()

    assert await world.run(read) == ["anna"]


@pytest.mark.postgres
async def test_a_connection_lost_before_the_first_statement_is_unavailable_not_internal(
    world: World, database_url: str
) -> None:
    """PostgreSQL gone between taking a pooled connection and its first statement (the
    driver begins the transaction itself): ``Unavailable``, as SQLAlchemy's own statements
    answer an outage, and the next unit of work gets a working connection."""
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite has no server connection to lose")
    anna = await world.member("anna")
    names = DriverSQL('SELECT "username" FROM users WHERE "id" = ANY(:ids)')

    async def lose_the_connection_then_read(uow: Any) -> Any:
        connection = await uow.session.connection()
        adapted = (await connection.get_raw_connection()).driver_connection
        pid = adapted.get_server_pid()
        await POSTGRES.execute(f"SELECT pg_terminate_backend({pid})")
        await wait_until(lambda: _backend_gone(pid), timeout=10, what=f"backend {pid} gone")
        return await names.run(uow.session, {"ids": [anna.id]})

    with pytest.raises(Unavailable):
        await world.run(lose_the_connection_then_read)

    async def read(uow: Any) -> list[Any]:
        return (await names.run(uow.session, {"ids": [anna.id]})).scalars()

    assert await world.run(read) == ["anna"]


async def _backend_gone(pid: int) -> bool:
    import asyncpg

    connection = await asyncpg.connect(POSTGRES.admin_url)
    try:
        return not await connection.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE pid = $1", pid
        )
    finally:
        await connection.close()
