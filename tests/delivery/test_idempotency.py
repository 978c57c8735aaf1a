"""Concurrent retries of one ``clientMessageId`` from two connections (and REST) store
one message, and it is announced once (PostgreSQL: real concurrent transactions)."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from tests.delivery.checks import assert_no_gaps_or_doubles, full_history
from tests.support import Family

ROUNDS = 25


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_concurrent_retries_store_one_message(family: Family) -> None:
    anna = await family.member("anna", connect=True)
    phone = await family.device(anna)
    boris = await family.member("boris", connect=True)
    chat = await anna.family_chat()

    for n in range(ROUNDS):
        cid = f"retry-{n}"
        content = f"only once {n}"
        attempts = [
            *(device.send_message(chat.id, content, cid) for device in (anna, phone) * 3),
            *(device.post_message(chat.id, content, cid) for device in (anna, phone)),
        ]
        answers = await asyncio.gather(*attempts)
        assert len({m.id for m in answers}) == 1, f"round {n}: {len(answers)} answers differ"

    history = await full_history(anna, chat.id)
    assert [m.client_message_id for m in history] == [f"retry-{n}" for n in range(ROUNDS)]
    assert_no_gaps_or_doubles(history)
    # Every member hears of each message once (fenced by the last one).
    last = history[-1]
    await boris.inbox.wait_for("messageReceived", lambda m: m["id"] == str(last.id))
    counts = Counter(m["id"] for m in boris.inbox.all("messageReceived"))
    assert set(counts) == {str(m.id) for m in history}
    assert set(counts.values()) == {1}
