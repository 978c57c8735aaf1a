"""Pins: anyone in private chats and groups, admins in the family chat; live and in sync."""

from __future__ import annotations

import pytest

from inner_circle.sdk import BadRequest, NotFoundError, PermissionDenied
from tests.support import Family


async def test_pins_are_listed_latest_first_and_idempotent(family: Family) -> None:
    anna = await family.member("anna", connect=True)
    boris = await family.member("boris", connect=True)
    group = await anna.create_group("Trip", [boris.user_id])
    first = await anna.post_message(group.id, "tickets: row 5")
    second = await anna.post_message(group.id, "hotel: Sunset")
    pinned = await boris.pin(group.id, first.id)
    assert pinned.pinned_at is not None
    event = await anna.inbox.wait_for("messagePinned")
    assert event["id"] == str(first.id) and event["pinnedAt"] is not None
    again = await boris.pin(group.id, first.id)
    assert again.pinned_at == pinned.pinned_at  # the first pin time stays
    await anna.pin(group.id, second.id)
    assert [m.id for m in await boris.pins(group.id)] == [second.id, first.id]
    unpinned = await anna.unpin(group.id, first.id)
    assert unpinned.pinned_at is None
    await boris.inbox.wait_for("messageUnpinned", lambda m: m["id"] == str(first.id))
    assert (await anna.unpin(group.id, first.id)).pinned_at is None
    assert [m.id for m in await anna.pins(group.id)] == [second.id]
    assert len(anna.inbox.all("messagePinned")) == 2  # the repeated pin announced nothing


async def test_only_admins_pin_in_the_family_chat(family: Family) -> None:
    gran = await family.member("gran", admin=True)
    anna = await family.member("anna")
    chat = await anna.family_chat()
    sent = await anna.post_message(chat.id, "family rules")
    with pytest.raises(PermissionDenied):
        await anna.pin(chat.id, sent.id)
    assert (await gran.pin(chat.id, sent.id)).pinned_at is not None
    with pytest.raises(PermissionDenied):
        await anna.unpin(chat.id, sent.id)
    assert [m.id for m in await anna.pins(chat.id)] == [sent.id]


async def test_outsiders_deleted_messages_and_sync(family: Family) -> None:
    anna = await family.member("anna")
    boris = await family.member("boris")
    carl = await family.member("carl")
    private = await anna.private_chat(boris.user_id)
    sent = await anna.post_message(private.id, "code 1234")
    cursor = (await boris.sync()).cursor
    with pytest.raises(NotFoundError):
        await carl.pin(private.id, sent.id)
    with pytest.raises(NotFoundError):
        await carl.pins(private.id)
    await anna.pin(private.id, sent.id)
    await anna.unpin(private.id, sent.id)
    await anna.pin(private.id, sent.id)
    events, _ = await boris.sync_all(cursor)
    assert [e.type for e in events] == ["messagePinned", "messageUnpinned", "messagePinned"]
    assert events[-1].message is not None and events[-1].message.pinned_at is not None
    await anna.delete_message(private.id, sent.id)
    assert await boris.pins(private.id) == []
    with pytest.raises(BadRequest):
        await boris.pin(private.id, sent.id)
