"""Hints that a member's or a session's grant changed: re-check their live sockets now.

A revocation (logout, password change or reset, deactivation, refresh-token theft)
commits to the database; the database decides. These hints only make every server
process look *now* instead of at its next sweep (``docs/adr/0010-live-socket-grants.md``):
the process that committed checks its own sockets at once, and with Redis every other
process (and the operator's CLI, which has no sockets) publishes the hint on a channel
all processes listen to. A lost or forged hint costs nothing: a process only re-reads
the database, and its periodic sweep closes what the hint missed.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, Literal

__all__ = ["Kind", "Revocations"]

log = logging.getLogger(__name__)

Kind = Literal["user", "session"]
Handler = Callable[[Kind, uuid.UUID], Awaitable[None]]


class Revocations:
    """Local delivery of hints, plus a Redis channel shared by every process when configured."""

    def __init__(self, redis: Any | None = None, *, prefix: str = "inner-circle") -> None:
        self._redis = redis
        self.channel = f"{prefix}:grants"
        self.origin = uuid.uuid4().hex  # our own messages come back; they are skipped
        self._handlers: list[Handler] = []

    def subscribe(self, handler: Handler) -> None:
        """A socket namespace: ``handler(kind, id)`` re-checks the matching sockets."""
        self._handlers.append(handler)

    async def _deliver(self, kind: Kind, ident: uuid.UUID) -> None:
        for handler in self._handlers:
            try:
                await handler(kind, ident)
            except Exception:  # the sweep is the backstop; the commit already happened
                log.exception("re-checking the sockets of %s %s failed", kind, ident)

    async def announce(self, kind: Kind, ident: uuid.UUID) -> None:
        """Re-check ``kind`` ``ident`` here, and ask every other process to do the same."""
        await self._deliver(kind, ident)
        if self._redis is None:
            return
        message = json.dumps({"kind": kind, "id": str(ident), "origin": self.origin})
        try:
            await self._redis.publish(self.channel, message)
        except Exception as exc:  # Redis down: the other processes' sweeps still close them
            log.warning("could not publish a revocation hint (%s)", type(exc).__name__)

    async def listen(self) -> None:
        """Run forever: hand other processes' hints to the handler (no-op without Redis)."""
        if self._redis is None or not self._handlers:
            return
        while True:
            pubsub = self._redis.pubsub()
            try:
                await pubsub.subscribe(self.channel)
                async for message in pubsub.listen():
                    await self._dispatch(message)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("revocation hints: Redis listener failed (%s)", type(exc).__name__)
                await asyncio.sleep(1)  # a timer before reconnecting, not synchronisation
            finally:
                try:
                    await pubsub.aclose()
                except Exception:  # closing a broken connection
                    pass

    async def _dispatch(self, message: Any) -> None:
        if not isinstance(message, dict) or message.get("type") != "message":
            return
        try:
            data = json.loads(message["data"])
            kind, ident = data["kind"], uuid.UUID(str(data["id"]))
        except (ValueError, KeyError, TypeError):
            log.warning("revocation hints: ignored a malformed message")
            return
        if data.get("origin") == self.origin or kind not in ("user", "session"):
            return
        await self._deliver(kind, ident)
