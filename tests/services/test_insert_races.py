"""Insert races end in a rule's answer, never a driver error (PostgreSQL: real concurrent
transactions). Each test holds one transaction open after its insert, starts the rival
(as another server process would), waits until PostgreSQL makes the rival wait for the
open one, then commits: the rival must lose politely."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from sqlalchemy import func, select, text

from inner_circle.core.actor import Actor
from inner_circle.core.errors import Conflict, ErrorCode
from inner_circle.protocol.events import ServerEvent
from inner_circle.protocol.rest import InviteCreateIn, RegisterIn, SendMessageIn
from inner_circle.server.db.models import Chat, FcmToken, Message
from inner_circle.server.services import accounts, chats, messages
from inner_circle.server.services.group_commit import SendBatcher
from inner_circle.server.services.invites import issue_invite
from tests.delivery.harness import wait_until
from tests.services.conftest import World

pytestmark = pytest.mark.parametrize("database_url", ["postgres"], indirect=True)


async def rival_waits(world: World) -> None:
    """Until another transaction of this database waits for a lock (ours)."""

    async def waiting() -> bool:
        async with world.uows.read() as uow:
            count = await uow.session.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
            )
        return bool(count)

    await wait_until(waiting, timeout=10, what="the rival waiting for the open transaction")


async def family_chat_id(world: World, actor: Actor) -> uuid.UUID:
    async def family(uow: Any) -> uuid.UUID:
        (chat,) = [c for c in await chats.list_my_chats(uow, actor) if c.type == "family"]
        return chat.id

    return await world.run(family)  # type: ignore[no-any-return]


async def test_a_batch_that_loses_a_client_id_race_answers_with_the_winner(world: World) -> None:
    anna = await world.member("anna")
    chat_id = await family_chat_id(world, anna)

    def body(content: str, cid: str) -> SendMessageIn:
        return SendMessageIn(chat_id=chat_id, content=content, client_message_id=cid)

    other_process = SendBatcher(world.uows)
    async with world.uows.write() as uow:
        first, created = await messages.send_message(uow, anna, body("first", "c1"))
        assert created
        rivals = asyncio.gather(
            other_process.send(messages.SendRequest(anna, body("a retry", "c1"))),
            other_process.send(messages.SendRequest(anna, body("second", "c2"))),
        )
        await rival_waits(world)
        await uow.commit()
    (retry, retry_created), (second, second_created) = await rivals

    assert retry.id == first.id and not retry_created
    assert second_created and second.seq == first.seq + 1  # the lost race left no gap
    async with world.uows.read() as uow:
        last_seq = await uow.session.scalar(select(Chat.last_seq).where(Chat.id == chat_id))
        stored = await uow.session.scalar(select(func.count()).where(Message.chat_id == chat_id))
    assert last_seq == stored == 2
    received = world.notifier.payloads(ServerEvent.MESSAGE_RECEIVED)
    assert [m["content"] for m in received] == ["first", "second"]  # the retry: no event


async def test_a_registration_that_loses_the_name_race_is_told_the_name_is_taken(
    world: World,
) -> None:
    await world.member("admin")

    async def code(uow: Any) -> str:
        return (await issue_invite(uow, InviteCreateIn(), created_by=None)).code

    codes = [await world.run(code), await world.run(code)]

    def join(name: str, invitation: str) -> RegisterIn:
        return RegisterIn(username=name, password="secret-pw", invitation_code=invitation)

    async def rival() -> Any:
        return await accounts.register_with_invite(world.uows, join("anna", codes[1]))

    async with world.uows.write() as uow:
        await accounts.join_family(uow, join("Anna", codes[0]), "a hash")
        late = asyncio.create_task(rival())
        await rival_waits(world)
        await uow.commit()
    with pytest.raises(Conflict) as taken:
        await late
    assert taken.value.code == ErrorCode.USERNAME_TAKEN


async def test_a_private_chat_started_from_both_sides_at_once_is_one_chat(world: World) -> None:
    anna = await world.member("anna")
    boris = await world.member("boris")

    async def from_boris() -> Any:
        return await world.run(lambda uow: chats.get_or_create_private_chat(uow, boris, anna.id))

    async with world.uows.write() as uow:
        mine, created = await chats.get_or_create_private_chat(uow, anna, boris.id)
        assert created
        late = asyncio.create_task(from_boris())
        await rival_waits(world)
        await uow.commit()
    theirs, theirs_created = await late
    assert theirs.id == mine.id and not theirs_created
    async with world.uows.read() as uow:
        count = await uow.session.scalar(select(func.count()).where(Chat.type == "private"))
    assert count == 1


async def test_one_session_registering_two_push_tokens_at_once_keeps_one_row(
    world: World,
) -> None:
    anna = await world.member("anna")
    device = Actor(
        id=anna.id,
        username=anna.username,
        display_name=anna.display_name,
        is_admin=False,
        session_id=uuid.uuid4(),
    )

    async def save(token: str) -> Any:
        return await world.run(lambda uow: accounts.save_fcm_token(uow, device, token))

    async with world.uows.write() as uow:
        await accounts.save_fcm_token(uow, device, "first")
        late = asyncio.create_task(save("second"))
        await rival_waits(world)
        await uow.commit()
    await late
    async with world.uows.read() as uow:
        tokens = (await uow.session.scalars(select(FcmToken.token))).all()
    assert tokens == ["second"]
