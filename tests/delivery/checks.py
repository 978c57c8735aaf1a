"""What "nothing lost, nothing doubled" means, as assertions over real histories."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import Iterable, Sequence

from inner_circle.protocol.rest import MessageOut
from inner_circle.sdk import InnerCircleClient
from tests.delivery.resilient import ResilientClient

__all__ = [
    "Progress",
    "assert_acked_stored_once",
    "assert_no_gaps_or_doubles",
    "full_history",
    "wait_converged",
]


class Progress:
    """A counter others can wait on: ``await progress.reached(n)``."""

    def __init__(self) -> None:
        self.count = 0
        self._changed = asyncio.Condition()

    async def add(self, n: int = 1) -> None:
        async with self._changed:
            self.count += n
            self._changed.notify_all()

    async def reached(self, n: int, timeout: float = 30) -> None:
        async def _wait() -> None:
            async with self._changed:
                await self._changed.wait_for(lambda: self.count >= n)

        await asyncio.wait_for(_wait(), timeout)


async def full_history(api: InnerCircleClient, chat_id: uuid.UUID) -> list[MessageOut]:
    """The server's whole history of a chat, ordered by seq (paged through REST)."""
    messages: list[MessageOut] = []
    while True:
        after = messages[-1].seq if messages else 0
        page = await api.history(chat_id, after=after, limit=200)
        messages.extend(page)
        if len(page) < 200:
            return messages


def assert_no_gaps_or_doubles(history: Sequence[MessageOut]) -> None:
    """Seqs run 1..n; no (sender, clientMessageId) and no message id appears twice."""
    assert [m.seq for m in history] == list(range(1, len(history) + 1)), "seq gap or repeat"
    ids = Counter(m.id for m in history)
    assert not [i for i, n in ids.items() if n > 1], "a message id appears twice"
    keys = Counter((m.sender_id, m.client_message_id) for m in history if m.client_message_id)
    doubled = [key for key, n in keys.items() if n > 1]
    assert not doubled, f"stored twice: {doubled[:5]}"


def assert_acked_stored_once(
    clients: Iterable[ResilientClient], server: dict[uuid.UUID, list[MessageOut]]
) -> int:
    """Every acknowledged message is in the server's history exactly once; returns the count."""
    stored = Counter(m.id for history in server.values() for m in history)
    by_id = {m.id: m for history in server.values() for m in history}
    count = 0
    for client in clients:
        for cid, message in client.acked.items():
            assert stored[message.id] == 1, (
                f"{client.name}: acked {cid} stored {stored[message.id]}x"
            )
            assert by_id[message.id].client_message_id == cid
            count += 1
    return count


async def wait_converged(
    clients: Iterable[ResilientClient],
    server: dict[uuid.UUID, list[MessageOut]],
    *,
    timeout: float = 20,
) -> None:
    """Wait until each client's local history of each of its chats equals the server's.

    Nothing is fetched for the client: its history must get there by live events and
    its own catch-up from its stored cursor. On timeout the first difference is shown.
    """
    for client in clients:
        chats = [chat_id for chat_id in server if chat_id in client.chats]
        assert chats, f"{client.name} knows none of the chats"

        def same(client: ResilientClient = client, chats: list[uuid.UUID] = chats) -> bool:
            return all(
                [m.id for m in client.history(c)] == [m.id for m in server[c]] for c in chats
            )

        try:
            await client.wait_until(same, timeout=timeout)
        except TimeoutError:
            for chat_id in chats:
                local = [m.seq for m in client.history(chat_id)]
                expected = [m.seq for m in server[chat_id]]
                missing = sorted(set(expected) - set(local))
                extra = sorted(set(local) - set(expected))
                assert local == expected, (
                    f"{client.name} differs in {chat_id}: missing seqs {missing[:20]}, "
                    f"extra {extra[:20]}, stats {client.stats}"
                )
            raise
