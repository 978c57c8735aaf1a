"""A client drops in the middle of a burst and comes back: it catches up through sync
from its stored cursor, with no gap and no duplicate (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from inner_circle.sdk import InnerCircleClient
from tests.delivery.checks import (
    Progress,
    assert_no_gaps_or_doubles,
    full_history,
    wait_converged,
)
from tests.delivery.resilient import ResilientClient
from tests.support import PASSWORD, Family

BURST = 150


async def _burst(sender: InnerCircleClient, chat_id: uuid.UUID, tag: str, sent: Progress) -> None:
    async def one(n: int) -> None:
        await sender.send_message(chat_id, f"{tag} {n}")
        await sent.add()

    for start in range(0, BURST, 5):  # five in flight at a time
        await asyncio.gather(*(one(n) for n in range(start, start + 5)))


@pytest.mark.parametrize("abrupt", [False, True], ids=["goodbye", "cut"])
async def test_client_away_mid_burst_catches_up(family: Family, abrupt: bool) -> None:
    anna = await family.member("anna", connect=True)
    boris = await family.member("boris", connect=True)
    clara = ResilientClient(await family.member("clara"), PASSWORD)
    await clara.start()
    chat = await anna.family_chat()

    sent = Progress()
    burst = asyncio.gather(
        _burst(anna, chat.id, "anna", sent), _burst(boris, chat.id, "boris", sent)
    )
    try:
        await clara.wait_until(lambda: clara.stats.live_messages >= 40)
        await clara.go_offline(abrupt=abrupt)
        # Stay away while at least 60 more are stored, then come back mid-burst.
        await sent.reached(sent.count + 60)
        await clara.start()
        await asyncio.wait_for(burst, 60)
    finally:
        burst.cancel()

    history = {chat.id: await full_history(anna, chat.id)}
    assert len(history[chat.id]) == 2 * BURST
    assert_no_gaps_or_doubles(history[chat.id])
    await wait_converged([clara], history)
    # What it missed came through sync (at least 60 acked while away, less the 2 x 5
    # that may have reached it live just before it left) ...
    assert clara.stats.synced_messages >= 50
    assert clara.stats.live_messages >= 40  # ... the rest live
    assert clara.stats.sync_anomalies == 0
    await clara.close()


async def test_repeated_drops_while_messages_flow(family: Family) -> None:
    """The supervisor reconnects by itself after each cut, each time catching up."""
    anna = await family.member("anna", connect=True)
    clara = ResilientClient(await family.member("clara"), PASSWORD)
    await clara.start()
    chat = await anna.family_chat()
    sent = Progress()
    burst = asyncio.create_task(_burst(anna, chat.id, "anna", sent))
    try:
        for round_ in range(5):
            await sent.reached(20 * (round_ + 1))
            connects = clara.stats.connects
            await clara.drop(abrupt=round_ % 2 == 0)
            await clara.wait_until(lambda c=connects: clara.stats.connects > c)
        await asyncio.wait_for(burst, 60)
    finally:
        burst.cancel()
    history = {chat.id: await full_history(anna, chat.id)}
    assert_no_gaps_or_doubles(history[chat.id])
    await wait_converged([clara], history)
    assert clara.stats.connects == 6 and clara.stats.sync_anomalies == 0
    await clara.close()
