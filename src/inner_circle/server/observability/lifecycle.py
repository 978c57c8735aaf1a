"""Stopping well: tell Socket.IO clients to reconnect elsewhere, then let uvicorn drain.

On SIGTERM uvicorn stops accepting connections, lets in-flight requests finish
(``timeout_graceful_shutdown``) and then runs the app's shutdown. Before that,
:class:`GracefulServer` sends every Socket.IO client of *this process* a
``serverShutdown`` event and disconnects it, so clients reconnect at once (to
another process behind the proxy, or to this server once it is back) instead of
waiting for a dead connection to time out.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from typing import Any

import uvicorn

__all__ = ["SHUTDOWN_EVENT", "GracefulServer", "announce_shutdown", "close_client_manager", "run"]

log = logging.getLogger(__name__)
SHUTDOWN_EVENT = "serverShutdown"
RECONNECT_AFTER_MS = 1000


async def announce_shutdown(sio: Any, timeout: float = 5.0) -> int:
    """Send ``serverShutdown`` to this process's clients and disconnect them; returns how many."""
    sids = [sid for sid, _ in sio.manager.get_participants("/", None)]

    async def bye(sid: str) -> None:
        # ignore_queue: only this process's clients, without a round trip through Redis.
        await sio.emit(
            SHUTDOWN_EVENT, {"reconnectAfterMs": RECONNECT_AFTER_MS}, to=sid, ignore_queue=True
        )
        await sio.disconnect(sid, ignore_queue=True)

    if sids:
        try:
            await asyncio.wait_for(asyncio.gather(*(bye(s) for s in sids)), timeout)
        except TimeoutError:
            log.warning("shutdown: not every client could be told in %.0f s", timeout)
    return len(sids)


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


def _socketio_server(app: Any) -> Any:
    """Find the Socket.IO server inside uvicorn's middleware wrappers."""
    while app is not None:
        if hasattr(app, "engineio_server"):
            return app.engineio_server
        app = getattr(app, "app", None)
    return None


class GracefulServer(uvicorn.Server):
    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        for server in self.servers:
            server.close()  # no new connections while clients are told
        sio = _socketio_server(self.config.loaded_app)
        if sio is not None and not self.force_exit:
            told = await announce_shutdown(sio)
            log.info("shutdown: told %d connected client(s) to reconnect", told)
        await super().shutdown(sockets)


def run(app: Any, **options: Any) -> None:
    """``uvicorn.run`` for one process, with :class:`GracefulServer`."""
    GracefulServer(uvicorn.Config(app, **options)).run()
