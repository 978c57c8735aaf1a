"""A send reads who of the chat has a push device with the chat's members, and hands that to
the push planner with the ``messageReceived`` event (``ports.DEVICE_HOLDERS``), so planning
the pushes of a batch asks the database nothing when nobody could be woken."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from inner_circle.core.actor import Actor
from inner_circle.protocol.events import ServerEvent
from inner_circle.protocol.rest import GroupChatIn, SendMessageIn
from inner_circle.server.ports import DEVICE_HOLDERS
from inner_circle.server.repositories import push as push_repo
from inner_circle.server.repositories import tokens as tokens_repo
from inner_circle.server.services import chats, messages
from tests.services.conftest import World
from tests.services.test_insert_races import family_chat_id


def _holders_by_chat(world: World) -> dict[str, list[frozenset[uuid.UUID]]]:
    found: dict[str, list[frozenset[uuid.UUID]]] = {}
    for event in world.notifier.events:
        if event.name == ServerEvent.MESSAGE_RECEIVED:
            found.setdefault(str(event.payload["chatId"]), []).append(
                frozenset(event.extra[DEVICE_HOLDERS])
            )
    world.notifier.events.clear()
    return found


async def _send(world: World, sends: list[tuple[Actor, uuid.UUID, str]]) -> None:
    async def work(uow: Any) -> None:
        requests = [
            messages.SendRequest(actor, SendMessageIn(chat_id=chat_id, content=text))
            for actor, chat_id, text in sends
        ]
        await messages.send_messages(uow, requests)

    await world.run(work)


async def test_each_message_names_the_members_with_a_device(world: World) -> None:
    anna = await world.member("anna")
    ben = await world.member("ben")
    cleo = await world.member("cleo")
    now = datetime.now(UTC)

    async def devices(uow: Any) -> None:
        await tokens_repo.save_fcm_token(uow.session, ben.id, uuid.uuid4(), "fcm-ben", now)
        await push_repo.save_subscription(
            uow.session, cleo.id, uuid.uuid4(), "https://push.test/cleo", "key", "auth",
            None, now, keep=10,
        )  # fmt: skip

    await world.run(devices)
    family = await family_chat_id(world, anna)

    async def group(uow: Any) -> uuid.UUID:
        made = await chats.create_group_chat(
            uow, anna, GroupChatIn(name="Anna and Ben", participant_ids=[ben.id])
        )
        return made.id

    pair = await world.run(group)
    world.notifier.events.clear()

    # A batch of two chats (one query for both), then a batch of one.
    await _send(world, [(anna, family, "hello all"), (cleo, pair, "not mine to send")])
    await _send(world, [(ben, pair, "hello anna")])
    assert _holders_by_chat(world) == {
        str(family): [frozenset({ben.id, cleo.id})],
        str(pair): [frozenset({ben.id})],
    }

    async def ben_forgets_his_device(uow: Any) -> None:
        for token in await push_repo.fcm_tokens_of(uow.session, [ben.id]):
            await push_repo.delete_fcm_token(uow.session, token.id)

    await world.run(ben_forgets_his_device)
    await _send(world, [(anna, pair, "anyone?")])
    assert _holders_by_chat(world) == {str(pair): [frozenset()]}
