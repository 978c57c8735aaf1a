"""Two devices of one member; one is offline for a while. Messages arrive, the other
device reads them; when the first comes back (sync from its cursor), both devices hold
the same history and the same read and delivered positions as the server."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterable

from tests.delivery.checks import full_history, wait_converged
from tests.delivery.resilient import ResilientClient
from tests.support import PASSWORD, Family


async def test_offline_device_catches_up_history_and_read_state(family: Family) -> None:
    anna_api = await family.member("anna")
    phone = ResilientClient(anna_api, PASSWORD, name="anna-phone")
    laptop = ResilientClient(await family.device(anna_api, connect=False), PASSWORD, name="laptop")
    boris = ResilientClient(await family.member("boris"), PASSWORD)
    clara = ResilientClient(await family.member("clara"), PASSWORD)
    for client in (phone, laptop, boris, clara):
        await client.start()
    family_chat = await anna_api.family_chat()
    group = await boris.api.create_group("Dacha", [anna_api.user_id, clara.user_id])
    await laptop.wait_until(lambda: group.id in laptop.chats)

    await laptop.go_offline()
    for n in range(30):
        await boris.send(family_chat.id, f"boris {n}")
        await clara.send(group.id, f"clara {n}")
    await phone.wait_until(lambda: len(phone.history(group.id)) == 30)
    boris_says = [m for m in phone.history(family_chat.id) if m.sender_id == boris.user_id]
    await boris.api.edit_message(family_chat.id, boris_says[3].id, "boris 3, edited")
    await boris.api.delete_message(family_chat.id, boris_says[4].id)
    await phone.mark_delivered(family_chat.id, 30)
    await phone.mark_read(family_chat.id, 20)
    await phone.mark_read(group.id, 30)
    await phone.send(family_chat.id, "read them on my phone")  # moves her read position to 31
    await boris.mark_read(family_chat.id, 31)
    await clara.mark_read(group.id, 15)

    await laptop.start()  # back online: catch-up from the stored cursor

    history = {c: await full_history(anna_api, c) for c in (family_chat.id, group.id)}
    await wait_converged([phone, laptop], history)
    for chat_id, messages in history.items():  # the same versions too (edits, deletions)
        server_view = [(m.id, m.content, m.deleted_at) for m in messages]
        for device in (phone, laptop):
            await device.wait_until(
                lambda d=device, c=chat_id, v=server_view: (
                    [(m.id, m.content, m.deleted_at) for m in d.history(c)] == v
                ),
                timeout=10,
            )
    edited = laptop.history(family_chat.id)[3]
    assert edited.content == "boris 3, edited" and edited.edited_at is not None
    assert laptop.history(family_chat.id)[4].deleted_at is not None
    for chat_id in history:
        server = {s.user_id: s for s in (await anna_api.chat(chat_id)).read_states}
        expected = {u: (s.last_read_seq, s.last_delivered_seq) for u, s in server.items()}
        for device in (phone, laptop):
            try:
                await device.wait_until(
                    lambda d=device, c=chat_id, e=expected: _positions(d, c, e) == e, timeout=10
                )
            except TimeoutError:
                assert _positions(device, chat_id, expected) == expected, device.name
                raise
    assert laptop.read[(family_chat.id, anna_api.user_id)] == 31
    assert laptop.read[(group.id, anna_api.user_id)] == 30
    assert laptop.stats.synced_messages >= 61 and laptop.stats.sync_anomalies == 0
    await asyncio.gather(*(c.close() for c in (phone, laptop, boris, clara)))


def _positions(
    client: ResilientClient, chat_id: uuid.UUID, members: Iterable[uuid.UUID]
) -> dict[uuid.UUID, tuple[int, int]]:
    """(read, delivered) of each member in the chat, as ``client`` holds them."""
    return {
        u: (client.read.get((chat_id, u), 0), client.delivered.get((chat_id, u), 0))
        for u in members
    }
