"""PostgreSQL freezes (SIGSTOP: a stalled disk, a network partition): the server must
still answer within bounds, with ``UNAVAILABLE``, and recover when it thaws."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest

from inner_circle.sdk import ServerUnavailable
from tests.delivery.checks import full_history
from tests.delivery.harness import PrivatePostgres, ServerProcess, wait_until
from tests.support import Family

ANSWER_WITHIN = 20.0  # seconds: the engine's connect and statement timeouts, plus slack


def _cluster_pids(cluster: PrivatePostgres) -> list[int]:
    postmaster = int((cluster.data / "postmaster.pid").read_text().split()[0])
    children = subprocess.run(
        ["pgrep", "-P", str(postmaster)], capture_output=True, text=True, check=False
    ).stdout.split()
    return [postmaster, *(int(pid) for pid in children)]


async def test_frozen_database_gets_bounded_unavailable_answers(
    outage_family: Family, private_pg: PrivatePostgres
) -> None:
    server: ServerProcess = outage_family.server
    anna = await outage_family.member("anna", connect=True)
    boris = await outage_family.member("boris", connect=True)
    chat = await anna.family_chat()
    await anna.send_message(chat.id, "before")

    pids = _cluster_pids(private_pg)
    for pid in pids:
        os.kill(pid, signal.SIGSTOP)
    try:
        started = time.monotonic()
        with pytest.raises(ServerUnavailable) as refused:
            await anna.call(
                "sendMessage",
                {"chatId": str(chat.id), "content": "frozen", "clientMessageId": "frozen-1"},
                timeout=ANSWER_WITHIN + 10,
            )
        assert refused.value.code == "UNAVAILABLE"
        print(f"answered after {time.monotonic() - started:.1f} s")
        assert time.monotonic() - started < ANSWER_WITHIN
        assert await server.astatus("/healthz") == 200
    finally:
        for pid in pids:
            os.kill(pid, signal.SIGCONT)

    async def ready() -> bool:
        return await server.astatus("/readyz") == 200

    await wait_until(ready, timeout=30, what="/readyz 200 after the thaw")
    again = await anna.send_message(chat.id, "frozen", client_message_id="frozen-1")
    after = await anna.send_message(chat.id, "after")
    await boris.inbox.wait_for("messageReceived", lambda m: m["id"] == str(after.id))
    contents = [m.content for m in await full_history(anna, chat.id)]
    assert contents == ["before", "frozen", "after"]
    assert again.content == "frozen"
