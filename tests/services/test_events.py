"""Each use case emits exactly these events, to exactly these members."""

from __future__ import annotations

from inner_circle.protocol.events import TypingIn
from inner_circle.protocol.rest import (
    GroupChatIn,
    InviteCreateIn,
    ProfileUpdateIn,
    RegisterIn,
    SendMessageIn,
)
from inner_circle.server.services import accounts, chats, messages, pins, presence, reactions
from inner_circle.server.services.invites import issue_invite
from tests.services.conftest import EVERYONE, World, bag


async def family_chat_id(world: World, actor):  # type: ignore[no-untyped-def]
    found = await world.run(lambda uow: chats.list_my_chats(uow, actor))
    return next(c.id for c in found if c.type == "family")


async def test_registration_announces_the_newcomer(world: World) -> None:
    anna = await world.member("anna")
    boris = await world.member("boris")

    invite = await world.run(lambda uow: issue_invite(uow, InviteCreateIn(), created_by=None))
    world.notifier.take()
    body = RegisterIn(username="clara", password="secret-pw", invitation_code=invite.code)
    clara = await accounts.register_with_invite(world.uows, body)
    assert bag(world.notifier.take()) == bag(
        [
            ("userJoined", {anna.id, boris.id}),
            ("chatUpdated", {anna.id}),
            ("chatUpdated", {boris.id}),
            ("chatCreated", {clara.id}),
        ]
    )


async def test_send_message_reaches_participants_and_tells_the_sender(world: World) -> None:
    anna = await world.member("anna")
    boris = await world.member("boris")
    chat_id = await family_chat_id(world, anna)
    body = SendMessageIn(chat_id=chat_id, content="hi", client_message_id="c1")
    await world.run(lambda uow: messages.send_message(uow, anna, body, origin_sid="sid-1"))
    assert world.notifier.take() == [
        ("messageReceived", {anna.id, boris.id}),
        ("messageSent", "sid-1"),
    ]
    await world.run(lambda uow: messages.send_message(uow, anna, body, origin_sid="sid-1"))
    assert world.notifier.take() == []  # a retry stores and announces nothing


async def test_group_events(world: World) -> None:
    anna = await world.member("anna")
    boris = await world.member("boris")
    clara = await world.member("clara")
    group = await world.run(
        lambda uow: chats.create_group_chat(
            uow, anna, GroupChatIn(name="G", participant_ids=[boris.id])
        )
    )
    assert bag(world.notifier.take()) == bag(
        [
            ("chatCreated", {anna.id}),
            ("chatCreated", {boris.id}),
        ]
    )
    await world.run(lambda uow: chats.rename_chat(uow, boris, group.id, "G2"))
    assert bag(world.notifier.take()) == bag(
        [
            ("chatUpdated", {anna.id}),
            ("chatUpdated", {boris.id}),
        ]
    )
    await world.run(lambda uow: chats.add_participants(uow, anna, group.id, [clara.id]))
    assert bag(world.notifier.take()) == bag(
        [
            ("chatCreated", {clara.id}),
            ("chatUpdated", {anna.id}),
            ("chatUpdated", {boris.id}),
        ]
    )
    await world.run(lambda uow: chats.remove_participant(uow, anna, group.id, boris.id))
    assert bag(world.notifier.take()) == bag(
        [
            ("chatRemoved", {boris.id}),
            ("chatUpdated", {anna.id}),
            ("chatUpdated", {clara.id}),
        ]
    )


async def test_private_chat_is_announced_once(world: World) -> None:
    anna = await world.member("anna")
    boris = await world.member("boris")
    await world.run(lambda uow: chats.get_or_create_private_chat(uow, anna, boris.id))
    assert bag(world.notifier.take()) == bag(
        [
            ("chatCreated", {anna.id}),
            ("chatCreated", {boris.id}),
        ]
    )
    await world.run(lambda uow: chats.get_or_create_private_chat(uow, boris, anna.id))
    assert world.notifier.take() == []


async def test_read_delivered_typing_and_edits(world: World) -> None:
    anna = await world.member("anna")
    boris = await world.member("boris")
    clara = await world.member("clara")
    chat_id = await family_chat_id(world, anna)
    sent, _ = await world.run(
        lambda uow: messages.send_message(uow, anna, SendMessageIn(chat_id=chat_id, content="x"))
    )
    world.notifier.take()
    everyone = {anna.id, boris.id, clara.id}
    await world.run(lambda uow: messages.mark_delivered(uow, boris, chat_id, sent.seq))
    await world.run(lambda uow: messages.mark_read(uow, boris, chat_id, sent.seq))
    await world.run(lambda uow: messages.mark_read(uow, boris, chat_id, sent.seq))  # no move
    assert world.notifier.take() == [("messagesDelivered", everyone), ("messagesRead", everyone)]
    await world.run(lambda uow: presence.typing(uow, boris, TypingIn(chat_id=chat_id)))
    assert world.notifier.take() == [("userTyping", {anna.id, clara.id})]
    await world.run(lambda uow: messages.edit_message(uow, anna, chat_id, sent.id, "y"))
    await world.run(lambda uow: messages.delete_message(uow, anna, chat_id, sent.id))
    # Clara had not read it: the deletion also updates the chat's unread counts.
    assert bag(world.notifier.take()) == bag(
        [
            ("messageUpdated", everyone),
            ("messageUpdated", everyone),
            *(("chatUpdated", {member}) for member in everyone),
        ]
    )


async def test_account_changes(world: World) -> None:
    admin = await world.member("gran", admin=True)
    anna = await world.member("anna")
    await world.run(
        lambda uow: accounts.update_profile(uow, anna, ProfileUpdateIn(display_name="A"))
    )
    assert world.notifier.take() == [("userUpdated", {admin.id, anna.id})]
    await world.run(lambda uow: accounts.deactivate_member(uow, admin, anna.id))
    assert world.notifier.take() == [("userUpdated", {admin.id})]
    assert world.notifier.disconnected == [anna.id]


async def test_presence_first_and_last_connection(world: World) -> None:
    anna = await world.member("anna")
    await world.member("boris")
    await world.run(lambda uow: presence.connection_opened(uow, anna, "s1"))
    await world.run(lambda uow: presence.connection_opened(uow, anna, "s2"))
    # One emit to the family room (every signed-in connection but this one): no member
    # list is read or built, whatever the family's size.
    assert world.notifier.take() == [
        ("userConnected", f"{EVERYONE} but s1"),
        ("presence", f"{EVERYONE} but s1"),
    ]
    await world.run(lambda uow: presence.connection_closed(uow, anna.id, "s1"))
    assert world.notifier.take() == []
    await world.run(lambda uow: presence.connection_closed(uow, anna.id, "s2"))
    assert world.notifier.take() == [("userDisconnected", EVERYONE), ("presence", EVERYONE)]


async def test_reactions_and_pins_tell_only_who_can_see_the_message(world: World) -> None:
    anna = await world.member("anna")
    boris = await world.member("boris")
    clara = await world.member("clara")
    group = await world.run(
        lambda uow: chats.create_group_chat(
            uow,
            anna,
            GroupChatIn(name="Late", participant_ids=[boris.id], new_members_see_history=False),
        )
    )
    body = SendMessageIn(chat_id=group.id, content="before clara")
    sent, _ = await world.run(lambda uow: messages.send_message(uow, anna, body))
    await world.run(lambda uow: chats.add_participants(uow, anna, group.id, [clara.id]))
    world.notifier.take()

    def react(active: bool):  # type: ignore[no-untyped-def]
        return lambda uow: reactions.set_reaction(
            uow, boris, group.id, sent.id, "👍", active=active
        )

    await world.run(react(True))
    assert world.notifier.take() == [("reactionsUpdated", {anna.id, boris.id})]
    await world.run(react(True))
    assert world.notifier.take() == []  # nothing changed: nothing announced
    await world.run(react(False))
    assert world.notifier.take() == [("reactionsUpdated", {anna.id, boris.id})]
    await world.run(lambda uow: pins.set_pin(uow, anna, group.id, sent.id, pinned=True))
    assert world.notifier.take() == [("messagePinned", {anna.id, boris.id})]
    await world.run(lambda uow: pins.set_pin(uow, anna, group.id, sent.id, pinned=True))
    assert world.notifier.take() == []
    await world.run(lambda uow: pins.set_pin(uow, boris, group.id, sent.id, pinned=False))
    assert world.notifier.take() == [("messageUnpinned", {anna.id, boris.id})]
