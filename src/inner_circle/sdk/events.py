"""An inbox of received socket events that callers can await without sleeping."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Callable
from typing import Any

__all__ = ["EventInbox"]


class EventInbox:
    """Keeps every event a connection received, in order, per event name."""

    def __init__(self) -> None:
        self._received: dict[str, list[Any]] = defaultdict(list)
        self._changed = asyncio.Event()

    def push(self, name: str, payload: Any) -> None:
        self._received[name].append(payload)
        self._changed.set()

    def all(self, name: str) -> list[Any]:
        return list(self._received.get(name, []))

    def clear(self, name: str | None = None) -> None:
        if name is None:
            self._received.clear()
        else:
            self._received.pop(name, None)

    async def wait_for(
        self,
        name: str,
        predicate: Callable[[Any], bool] = lambda _: True,
        *,
        timeout: float = 10.0,
    ) -> Any:
        """The first ``name`` event matching ``predicate`` (received before or after this call)."""

        async def _wait() -> Any:
            while True:
                for payload in self._received.get(name, []):
                    if predicate(payload):
                        return payload
                self._changed.clear()
                await self._changed.wait()

        return await asyncio.wait_for(_wait(), timeout)

    async def wait_count(self, name: str, count: int, *, timeout: float = 10.0) -> list[Any]:
        """Wait until at least ``count`` ``name`` events have arrived; return them all."""

        async def _wait() -> list[Any]:
            while len(self._received.get(name, [])) < count:
                self._changed.clear()
                await self._changed.wait()
            return self.all(name)

        return await asyncio.wait_for(_wait(), timeout)
