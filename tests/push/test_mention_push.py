"""A mention notifies even in a muted chat (ADR 14)."""

from __future__ import annotations

from tests.push.conftest import PushReceiver, StartPush, subscribe


async def test_a_mention_passes_the_mute(push_family: StartPush, receiver: PushReceiver) -> None:
    family = await push_family()
    alice = await family.member("alice", connect=True)
    bob = await family.member("bob")
    carol = await family.member("carol")
    bobs, carols = receiver.new(), receiver.new()
    await subscribe(bob, bobs)
    await subscribe(carol, carols)
    chat = await alice.create_group("Cousins", [bob.user_id, carol.user_id])
    await bob.request("PUT", f"/chats/{chat.id}/mute", json={"duration": "forever"})
    await alice.send_message(chat.id, "not for bob")
    await receiver.wait_for(carols.name)  # planned; bob's would have been queued first
    await alice.send_message(chat.id, "@bob your turn to cook")

    pushes = await receiver.wait_for(bobs.name)
    assert [p.payload["body"] for p in pushes] == ["@bob your turn to cook"]
