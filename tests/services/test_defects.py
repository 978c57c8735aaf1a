"""Defects from earlier work (issue 11, item 7), each pinned by a test that failed before."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import event, func, select, text
from sqlalchemy.exc import IntegrityError

from inner_circle.core.errors import ValidationFailed
from inner_circle.protocol.events import ServerEvent
from inner_circle.protocol.rest import InviteCreateIn, RegisterIn, SendMessageIn
from inner_circle.server.bootstrap import operator_uows
from inner_circle.server.db.models import Chat
from inner_circle.server.ops.backup import new_epoch
from inner_circle.server.repositories import chats as chats_repo
from inner_circle.server.services import accounts, chats, messages, presence, sync
from inner_circle.server.services.invites import issue_invite
from tests.services.conftest import RecordingNotifier, World
from tests.support import make_settings


async def _family(world: World, actor):  # type: ignore[no-untyped-def]
    found = await world.run(lambda uow: chats.list_my_chats(uow, actor))
    return next(c for c in found if c.type == "family")


async def test_deleted_messages_do_not_count_as_unread(world: World) -> None:
    anna = await world.member("anna")
    boris = await world.member("boris")
    family = await _family(world, anna)
    sent = []
    for text_ in ("one", "two", "three"):
        body = SendMessageIn(chat_id=family.id, content=text_)
        sent.append((await world.run(lambda uow, b=body: messages.send_message(uow, anna, b)))[0])
    assert (await _family(world, boris)).unread_count == 3
    world.notifier.take()

    await world.run(lambda uow: messages.delete_message(uow, anna, family.id, sent[2].id))
    # Boris's badge is told at once: the deleted message no longer counts.
    updates = [
        e
        for e in world.notifier.events
        if e.name == ServerEvent.CHAT_UPDATED and boris.id in e.user_ids
    ]
    assert [u.payload["unreadCount"] for u in updates] == [2]
    assert (await _family(world, boris)).unread_count == 2
    read = await world.run(lambda uow: messages.mark_read(uow, boris, family.id, sent[1].seq))
    assert read.unread_count == 0  # "three" was deleted: nothing left to read


async def test_a_second_family_chat_cannot_be_stored(world: World) -> None:
    anna = await world.member("anna")
    family = await _family(world, anna)

    async def insert_another(uow):  # type: ignore[no-untyped-def]
        now = uow.ctx.clock.now()
        assert await chats_repo.insert_family_chat(uow.session, "Family 2", now) is None
        uow.session.add(Chat(name="Family 3", type="family", created_at=now, updated_at=now))
        await uow.session.flush()

    with pytest.raises(IntegrityError):
        await world.run(insert_another)
    assert (await world.run(lambda uow: chats.ensure_family_chat(uow))).id == family.id


@pytest.mark.postgres
async def test_two_processes_starting_together_make_one_family_chat(
    database_url: str, tmp_path: Path
) -> None:
    """Both processes find no family chat; the second one's insert waits on the first's
    (the unique partial index), then does nothing, and it adopts the first one's chat."""
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite has one writer: a second process cannot read before the first commits")
    settings = make_settings(database_url, tmp_path)
    first, first_engine = operator_uows(settings, RecordingNotifier())
    second, second_engine = operator_uows(settings, RecordingNotifier())
    first_inserted = asyncio.Event()

    async def start_second() -> Chat:
        await first_inserted.wait()
        async with second.write() as uow:
            family = await chats.ensure_family_chat(uow)
            await uow.commit()
        return family

    try:
        second_task = asyncio.create_task(start_second())
        async with first.write() as uow:
            family = await chats.ensure_family_chat(uow)
            first_inserted.set()
            # Commit once the second has read "no family chat" and waits on the index
            # (or, without the index, has finished): a condition, polled with a deadline.
            async with asyncio.timeout(20):
                while not await _waiting_on_a_lock(uow):
                    done, _ = await asyncio.wait({second_task}, timeout=0.02)
                    if done:
                        break
            await uow.commit()
        adopted = await asyncio.wait_for(second_task, 20)
        async with first.read() as uow:
            count = await uow.session.scalar(
                select(func.count()).select_from(Chat).where(Chat.type == "family")
            )
        assert count == 1
        assert adopted.id == family.id
    finally:
        await first_engine.dispose()  # type: ignore[attr-defined]
        await second_engine.dispose()  # type: ignore[attr-defined]


async def _waiting_on_a_lock(uow) -> bool:  # type: ignore[no-untyped-def]
    # Statistics views are a snapshot per transaction unless cleared.
    await uow.session.execute(text("SELECT pg_stat_clear_snapshot()"))
    waiting = await uow.session.scalar(
        text(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
    )
    return bool(waiting)


async def test_registration_cost_does_not_grow_with_the_family(world: World) -> None:
    """Registering a member announces the family chat with a constant number of emits and
    one participant list, whatever the family's size (it was one view per member: n²)."""
    admin = await world.member("gran", admin=True)
    engine = world.uows.sessionmaker.kw["bind"]
    statements: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement)

    async def register(name: str) -> tuple[int, int, int]:
        invite = await world.run(
            lambda uow: issue_invite(uow, InviteCreateIn(), created_by=admin.id)
        )
        world.notifier.take()
        statements.clear()
        body = RegisterIn(username=name, password="secret-pw", invitation_code=invite.code)
        event.listen(engine.sync_engine, "before_cursor_execute", count)
        try:
            await accounts.register_with_invite(world.uows, body)
        finally:
            event.remove(engine.sync_engine, "before_cursor_execute", count)
        emitted = world.notifier.events
        participants_built = sum(
            len(e.payload["participants"]) for e in emitted if e.name.startswith("chat")
        )
        chat_emits = sum(1 for e in emitted if e.name.startswith("chat"))
        world.notifier.take()
        texts.append(sorted(statements))
        return len(statements), chat_emits, participants_built

    texts: list[list[str]] = []
    small = await register("member5")
    for i in range(6, 20):
        await world.member(f"member{i}")
    large = await register("member20")
    assert large[0] == small[0], "SQL statements per registration grew with the family"
    # The same statements, not only as many: one that grew a term per member (unread
    # mentions as an OR over every member) was compiled anew, and cached, at each size.
    assert texts[1] == texts[0], "a registration's SQL grew with the family"
    assert large[1] == small[1] == 2  # chatCreated to the newcomer, one chatUpdated to all
    # One participant list per emit (gran + the members): O(n), where it was n lists of n.
    assert (small[2], large[2]) == (2 * 2, 2 * 17)


async def test_a_cursor_from_another_epoch_starts_fresh_even_below_the_newest_id(
    world: World,
) -> None:
    anna = await world.member("anna")
    family = await _family(world, anna)

    async def post(content: str) -> None:
        body = SendMessageIn(chat_id=family.id, content=content)
        await world.run(lambda uow: messages.send_message(uow, anna, body))

    await post("before the backup")
    stale = (await world.run(lambda uow: sync.sync(uow, anna, None))).cursor
    epoch, position = stale.split(":")
    await post("after the backup")

    # Continuing from the cursor: only the new message, and the same epoch.
    page = await world.run(lambda uow: sync.sync(uow, anna, stale))
    assert not page.reset and [e.message.content for e in page.events if e.message] == [
        "after the backup"
    ]
    assert page.cursor.split(":")[0] == epoch
    # A plain integer cursor (servers before epochs) still works, judged by its id.
    legacy = await world.run(lambda uow: sync.sync(uow, anna, int(position)))
    assert not legacy.reset and legacy.cursor == page.cursor

    # A restore gives the database a new epoch (server/ops/backup.py).
    async def restore_like(uow):  # type: ignore[no-untyped-def]
        return await new_epoch(await uow.session.connection())

    fresh_epoch = await world.run(restore_like)
    assert fresh_epoch != epoch
    page = await world.run(lambda uow: sync.sync(uow, anna, stale))
    assert page.reset is True and page.chats is not None  # its id is below the newest
    assert page.cursor.startswith(f"{fresh_epoch}:")
    with pytest.raises(ValidationFailed):
        await world.run(lambda uow: sync.sync(uow, anna, "not a cursor"))


async def test_a_first_connect_reads_no_member_list(world: World) -> None:
    """Announcing a member online used to read every active id and list every member's
    room (O(n) per connect, O(n²) for a family connecting); now it is one emit to the
    family room and no query."""
    members = [await world.member(f"member{i}") for i in range(12)]
    engine = world.uows.sessionmaker.kw["bind"]
    statements: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        statements.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    try:
        await world.run(lambda uow: presence.connection_opened(uow, members[0], "sid-0"))
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", count)
    sent = world.notifier.events
    assert [(e.name, e.everyone, list(e.user_ids), e.skip_sid) for e in sent] == [
        (ServerEvent.USER_CONNECTED, True, [], "sid-0"),
        (ServerEvent.PRESENCE, True, [], "sid-0"),
    ]
    assert not [s for s in statements if "users" in s], statements
