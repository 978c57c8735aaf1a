"""Hypothesis-made payloads for every Socket.IO event: each gets an error ack (never an
internal error), the connection survives, and the server keeps serving everyone else."""

from __future__ import annotations

import asyncio
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inner_circle.server.socket.namespace import ChatNamespace
from tests.support import Family

EVENTS = sorted(
    name.removeprefix("on_")
    for name in dir(ChatNamespace)
    if name.startswith("on_") and name not in ("on_connect", "on_disconnect")
)
FIELDS = [
    "chatId", "content", "messageId", "seq", "limit", "offset", "before", "after",
    "isTyping", "name", "participantIds", "since", "clientMessageId", "chat_id",
]  # fmt: skip
REFUSALS = {"VALIDATION_FAILED", "NOT_FOUND", "FORBIDDEN", "RATE_LIMITED", "ADMIN_ONLY"}
EXAMPLES_PER_EVENT = 50

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)  # orjson, shared by the client
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=50)
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def payloads(ids: list[str]) -> st.SearchStrategy[Any]:
    """Anything JSON, and objects that look almost right (real field names, real ids)."""
    values = json_values | st.sampled_from(ids) | st.lists(st.sampled_from(ids), max_size=3)
    shaped = st.dictionaries(st.sampled_from(FIELDS), values, max_size=6)
    return json_values | shaped


async def test_socket_events_survive_generated_payloads(family: Family) -> None:
    fuzzer = await family.member("fuzzer", connect=True)
    anna = await family.member("anna")
    ben = await family.member("ben", connect=True)
    chat = await fuzzer.family_chat()
    private = await fuzzer.private_chat(anna.user_id)
    mine = await fuzzer.post_message(private.id, "mine")
    theirs = await anna.post_message(private.id, "theirs")
    ids = [str(x) for x in (chat.id, private.id, mine.id, theirs.id, anna.user_id, fuzzer.user_id)]
    assert fuzzer.sio is not None
    sio = fuzzer.sio
    loop = asyncio.get_running_loop()
    problems: list[str] = []

    def call(event: str, data: Any) -> Any:
        future = asyncio.run_coroutine_threadsafe(sio.call(event, data, timeout=10), loop)
        return future.result(15)

    def fuzz(event: str) -> None:
        @settings(
            max_examples=EXAMPLES_PER_EVENT,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        )
        @given(payloads(ids))
        def one(data: Any) -> None:
            ack = call(event, data)
            ok = isinstance(ack, dict) and isinstance(ack.get("ok"), bool)
            if not ok or (not ack["ok"] and ack["error"]["code"] not in REFUSALS):
                problems.append(f"{event}({data!r}) -> {ack!r}")

        one()

    for event in EVENTS:
        await asyncio.to_thread(fuzz, event)
    assert not problems, "\n".join(problems[:10])
    assert sio.connected
    # Everyone else is still served, over both edges.
    await anna.post_message(chat.id, "still working")
    received = await ben.inbox.wait_for(
        "messageReceived", lambda m: m["content"] == "still working"
    )
    assert received["senderId"] == str(anna.user_id)
    assert (await fuzzer.call("getChats"))["ok"]
