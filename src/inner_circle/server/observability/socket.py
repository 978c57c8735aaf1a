"""The chat namespace, observed: every event gets an id on its log lines and is counted."""

from __future__ import annotations

import time
from typing import Any

from inner_circle.protocol.events import ServerEvent
from inner_circle.server.db.uow import UnitOfWorkFactory
from inner_circle.server.limits import Limits
from inner_circle.server.observability.logs import event_id, new_id
from inner_circle.server.observability.metrics import Metrics
from inner_circle.server.services.group_commit import SendBatcher
from inner_circle.server.socket.namespace import ChatNamespace

__all__ = ["ObservedNamespace"]

LIFECYCLE = ("connect", "disconnect")


class ObservedNamespace(ChatNamespace):
    """:class:`ChatNamespace` plus metrics and event ids, through python-socketio's documented
    ``trigger_event`` and ``emit`` hooks; the handlers themselves are untouched."""

    def __init__(
        self, uows: UnitOfWorkFactory, sends: SendBatcher, limits: Limits | None, metrics: Metrics
    ) -> None:
        super().__init__(uows, sends, limits)
        self._metrics = metrics

    async def trigger_event(self, event: str, *args: Any) -> Any:
        known = event in LIFECYCLE or hasattr(self, f"on_{event}")
        label = event if known else "other"  # never a label a client chose
        token = event_id.set(new_id())
        start = time.perf_counter()
        try:
            return await super().trigger_event(event, *args)
        finally:
            self._metrics.events_in.labels(label).inc()
            self._metrics.event_latency.labels(label).observe(time.perf_counter() - start)
            event_id.reset(token)

    async def emit(self, event: str, data: Any = None, *args: Any, **kwargs: Any) -> Any:
        self._metrics.events_out.labels(event).inc()
        if event == ServerEvent.ERROR and isinstance(data, dict):
            self._metrics.count_error(data.get("code"), "socket")
        return await super().emit(event, data, *args, **kwargs)
