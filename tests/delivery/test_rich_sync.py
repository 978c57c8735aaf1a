"""Reactions and pins after being offline: the catch-up ends where the live state is, also
when many members react at the same moment (ADR 14)."""

from __future__ import annotations

import asyncio

from inner_circle.protocol.rest import MessageOut
from tests.support import Family

MEMBERS = 6


def state(message: MessageOut) -> tuple[object, ...]:
    reactions = sorted((r.emoji, tuple(sorted(map(str, r.user_ids)))) for r in message.reactions)
    return tuple(reactions), message.pinned_at is not None


async def test_offline_member_catches_up_with_concurrent_reactions_and_pins(
    family: Family,
) -> None:
    admin = await family.member("gran", admin=True)
    members = [await family.member(f"member{i}") for i in range(MEMBERS)]
    offline = await family.member("away")
    chat = await admin.family_chat()
    messages = [await admin.post_message(chat.id, f"news {n}") for n in range(3)]
    cursor = (await offline.sync()).cursor

    async def busy(i: int) -> None:
        member = members[i]
        for message in messages:
            await member.react(chat.id, message.id, "👍")
            await member.react(chat.id, message.id, "👍")  # a repeat changes nothing
            if i % 2:
                await member.unreact(chat.id, message.id, "👍")
            await member.react(chat.id, message.id, "❤️" if i % 3 else "🙏")

    await asyncio.gather(*(busy(i) for i in range(MEMBERS)), admin.pin(chat.id, messages[1].id))
    await admin.pin(chat.id, messages[2].id)
    await admin.unpin(chat.id, messages[2].id)

    live = {m.id: m for m in await admin.history(chat.id)}
    thumbs = next(r for r in live[messages[0].id].reactions if r.emoji == "👍")
    assert thumbs.count == MEMBERS // 2  # each even member once, however often they asked
    events, _ = await offline.sync_all(cursor)
    caught_up: dict[object, MessageOut] = {}
    for event in events:  # each event carries the message as it is: the last one wins
        assert event.type in ("reactionsUpdated", "messagePinned", "messageUnpinned")
        assert event.message is not None
        caught_up[event.message.id] = event.message
    assert {i: state(m) for i, m in caught_up.items()} == {
        m.id: state(live[m.id]) for m in messages
    }
    assert [m.id for m in await offline.pins(chat.id)] == [messages[1].id]
