"""Socket.IO client managers that fan an event out without a task per recipient.

python-socketio's ``AsyncManager.emit`` encodes an event once, then creates one
asyncio task per recipient connection and waits for all of them. Each task only
appends the packet to that connection's Engine.IO queue, which never blocks, so
the tasks buy nothing: they cost a task object, a loop iteration for the wait, and
under load the event loop's turnaround, once per event. With group commit a batch
of N messages was published in N loop iterations while the next batch waited.

Here the same encoded packet is handed to each connection's queue in a plain loop
(the library's own ``_send_eio_packet``, which is what its tasks call), so a whole
batch is published without yielding to the loop and in order. Acknowledgement
callbacks (unused by the server) keep the library's path.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import socketio
from engineio import packet as eio_packet
from socketio import packet

__all__ = ["DirectFanoutManager", "DirectFanoutRedisManager", "close_client_manager"]

log = logging.getLogger(__name__)


class DirectFanoutManager(socketio.AsyncManager):
    """The in-memory manager (one process), with direct fan-out."""

    async def emit(  # type: ignore[override]
        self,
        event: str,
        data: Any,
        namespace: str,
        room: Any = None,
        skip_sid: Any = None,
        callback: Any = None,
        to: Any = None,
        **kwargs: Any,
    ) -> None:
        if callback is not None:
            await super().emit(
                event,
                data,
                namespace,
                room=room,
                skip_sid=skip_sid,
                callback=callback,
                to=to,
                **kwargs,
            )
            return
        room = to or room
        if namespace not in self.rooms:
            return
        if isinstance(data, tuple):
            args = list(data)
        elif data is not None:
            args = [data]
        else:
            args = []
        skip = skip_sid if isinstance(skip_sid, list) else [skip_sid]
        # binary=False: the server's events are JSON (wire models dumped in JSON mode), so
        # the library's search of every payload for bytes, value by value, is skipped.
        encoded = self.server.packet_class(
            packet.EVENT, namespace=namespace, data=[event, *args], binary=False
        ).encode()
        frames = [
            eio_packet.Packet(eio_packet.MESSAGE, part)
            for part in (encoded if isinstance(encoded, list) else [encoded])
        ]
        # Materialise first: a send may yield (a connection timing out closes), and the
        # room may change meanwhile.
        targets = [
            eio_sid for sid, eio_sid in self.get_participants(namespace, room) if sid not in skip
        ]
        for eio_sid in targets:
            for frame in frames:
                try:
                    await self.server._send_eio_packet(eio_sid, frame)
                except Exception:  # one broken connection must not stop the others
                    log.exception("could not queue %s for %s", event, eio_sid)


class DirectFanoutRedisManager(socketio.AsyncRedisManager, DirectFanoutManager):
    """The Redis manager (several processes); each process delivers to its own
    connections with direct fan-out (``AsyncPubSubManager`` calls the next ``emit``
    in the method order, which is ``DirectFanoutManager.emit``)."""


async def close_client_manager(manager: Any) -> None:
    """Stop a Socket.IO Redis manager's listener and close its connections (app shutdown)."""
    if manager is None:
        return
    task = getattr(manager, "thread", None)
    if isinstance(task, asyncio.Task):
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    for name in ("pubsub", "redis"):
        conn = getattr(manager, name, None)
        if conn is not None and hasattr(conn, "aclose"):
            try:
                await conn.aclose()
            except Exception:  # closing on the way out
                pass
