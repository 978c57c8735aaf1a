"""Password hashes run outside every transaction.

At the default argon2 cost a hash takes about 0.1-0.25 s of CPU. Signing in used to
check the password inside its write transaction: on SQLite that held the only writer
for the whole hash, and every member's message waited behind each login (five logins a
second took a family's message p50 from 8 to 156 ms).
"""

from __future__ import annotations

import asyncio

import httpx

from tests.delivery.harness import wait_until
from tests.support import PASSWORD, Family, StartServer, metric_value, metrics_samples

DEFAULT_COST = {"argon2_memory_kib": 65536, "argon2_time_cost": 3}
LOGINS = 4


async def hashes_in_progress(family: Family) -> float:
    async with httpx.AsyncClient(base_url=family.url) as http:
        found = metrics_samples((await http.get("/metrics")).text)
    return metric_value(found, "inner_circle_password_hashes_in_progress")


async def test_messages_are_delivered_while_logins_hash_their_passwords(
    start_server: StartServer,
) -> None:
    family = await start_server(**DEFAULT_COST)  # SQLite: one writer for the whole process
    anna = await family.member("anna", connect=True)
    ben = await family.member("ben", connect=True)
    chat = await anna.family_chat()

    logins = [asyncio.create_task(family.client().login("ben", PASSWORD)) for _ in range(LOGINS)]

    # Every login has read its member and is hashing, or waiting for its turn to: inside
    # their transactions only one at a time could get this far.
    async def all_hashing() -> bool:
        return await hashes_in_progress(family) == LOGINS

    await wait_until(all_hashing, timeout=30, what=f"{LOGINS} logins checking passwords")
    sent = await anna.send_message(chat.id, "dinner at 7")
    assert sent.content == "dinner at 7"
    delivered = await ben.inbox.wait_for("messageReceived", lambda m: m["id"] == str(sent.id))
    assert delivered["content"] == "dinner at 7"
    # Sent and delivered while the hashes ran: the logins' turns (one at a time on two
    # cores, a quarter of a second each) are not over yet.
    assert not all(login.done() for login in logins)

    pairs = await asyncio.gather(*logins)
    assert len({pair.refresh_token for pair in pairs}) == LOGINS
    assert await hashes_in_progress(family) == 0
