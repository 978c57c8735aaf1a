"""Prometheus metrics: one registry per server, served as text at ``/metrics``.

What is measured, and where:

* HTTP requests and their latency by route *template* (``/messages/{chat_id}``),
  and error answers by code: :class:`MetricsMiddleware`;
* Socket.IO events in and out by name, and error events by code:
  ``observability.socket.ObservedNamespace`` and :class:`MeteredNotifier`;
* message delivery latency, from the commit to the emit: :class:`MeteredNotifier`;
* connected clients and checked-out database connections, read at scrape time.

Label values come from fixed sets (route templates, handler names, error codes),
never from what a client sent, so a caller cannot blow up the series count.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator, Sequence
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from inner_circle.core.errors import ErrorCode
from inner_circle.protocol.events import ServerEvent
from inner_circle.server.ports import Notifier, OutgoingEvent

__all__ = ["MeteredNotifier", "Metrics", "MetricsMiddleware"]

KNOWN_CODES = {str(code) for code in ErrorCode}
STALL_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)


class Metrics:
    """The server's metrics, registered in a registry of its own (tests run many servers)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.http_requests = Counter(
            "inner_circle_http_requests",
            "HTTP requests answered, by method, route template and status",
            ["method", "route", "status"],
            registry=r,
        )
        self.http_latency = Histogram(
            "inner_circle_http_request_duration_seconds",
            "Time to answer an HTTP request, by method and route template",
            ["method", "route"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.events_in = Counter(
            "inner_circle_socket_events_received",
            "Socket.IO events received, by name (unknown names are counted as 'other')",
            ["event"],
            registry=r,
        )
        self.event_latency = Histogram(
            "inner_circle_socket_event_duration_seconds",
            "Time to handle a Socket.IO event, by name",
            ["event"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.events_out = Counter(
            "inner_circle_socket_events_emitted",
            "Socket.IO emits, by event name (one per emit call, however many recipients)",
            ["event"],
            registry=r,
        )
        self.delivery_latency = Histogram(
            "inner_circle_message_delivery_seconds",
            "From the commit of a message to its emit to the recipients",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.loop_stalls = Histogram(
            "inner_circle_event_loop_stall_seconds",
            "Event-loop stalls over 50 ms, by cause: busy, cpu_wait (other processes had the "
            "cores), blocked, unknown (observability/stalls.py logs each with where it was)",
            ["cause"],
            buckets=STALL_BUCKETS,
            registry=r,
        )
        self.slow_commits = Counter(
            "inner_circle_slow_commits",
            "Commits that took over 50 ms (db/uow.py logs each with its phases)",
            registry=r,
        )
        self.slow_transactions = Counter(
            "inner_circle_slow_transactions",
            "Write transactions that took over 100 ms, commit included (db/uow.py logs them "
            "with their phases)",
            registry=r,
        )
        self.errors = Counter(
            "inner_circle_errors",
            "Error answers, by code and by edge (http or socket)",
            ["code", "edge"],
            registry=r,
        )

    def count_error(self, code: object, edge: str) -> None:
        label = str(code) if str(code) in KNOWN_CODES else "OTHER"
        self.errors.labels(label, edge).inc()

    def watch(self, *, sio: Any = None, engine: Any = None, passwords: Any = None) -> None:
        """Read connected clients, the database pool and password hashing at every scrape."""
        self.registry.register(_ScrapeTimeCollector(sio, engine, passwords))


class _ScrapeTimeCollector(Collector):
    def __init__(self, sio: Any, engine: Any, passwords: Any) -> None:
        self._sio = sio
        self._engine = engine
        self._passwords = passwords

    def collect(self) -> Iterator[GaugeMetricFamily]:
        if self._sio is not None:
            connected = self._sio.manager.rooms.get("/", {}).get(None, {})
            yield GaugeMetricFamily(
                "inner_circle_socket_connections",
                "Socket.IO clients connected to this process",
                value=len(connected),
            )
        if self._engine is not None:
            pool = self._engine.sync_engine.pool
            checked_out = getattr(pool, "checkedout", None)
            yield GaugeMetricFamily(
                "inner_circle_db_connections_checked_out",
                "Database connections in use by this process",
                value=checked_out() if callable(checked_out) else 0,
            )
        if self._passwords is not None:
            yield GaugeMetricFamily(
                "inner_circle_password_hashes_in_progress",
                "Password hashes and checks running or waiting for their turn",
                value=self._passwords.in_progress,
            )


class MeteredNotifier:
    """Wraps the notifier: counts committed events by name, times message delivery."""

    def __init__(self, inner: Notifier, metrics: Metrics) -> None:
        self._inner = inner
        self._metrics = metrics

    async def publish(self, events: Sequence[OutgoingEvent]) -> None:
        committed = time.perf_counter()  # publish runs right after the commit
        await self._inner.publish(events)  # one batch, as the notifier wants it (ADR 5)
        elapsed = time.perf_counter() - committed
        for event in events:
            self._metrics.events_out.labels(event.name).inc()
            if event.name == ServerEvent.MESSAGE_RECEIVED:
                self._metrics.delivery_latency.observe(elapsed)

    async def disconnect_user(self, user_id: uuid.UUID) -> None:
        await self._inner.disconnect_user(user_id)

    async def disconnect_session(self, session_id: uuid.UUID) -> None:
        await self._inner.disconnect_session(session_id)

    def __getattr__(self, name: str) -> Any:  # methods other helpers add to the notifier
        return getattr(self._inner, name)


class MetricsMiddleware:
    """Times every HTTP request and counts error answers by their code."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500
        is_json_error = False
        error_body = bytearray()

        async def observe(message: Message) -> None:
            nonlocal status, is_json_error
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = dict(message.get("headers", []))
                is_json_error = status >= 400 and headers.get(b"content-type", b"").startswith(
                    b"application/json"
                )
            elif message["type"] == "http.response.body" and is_json_error:
                if len(error_body) < 8192:
                    error_body.extend(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, observe)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None)
            if template is None:
                template = "static" if status < 400 else "unmatched"
            method = scope.get("method", "GET")
            self.metrics.http_latency.labels(method, template).observe(time.perf_counter() - start)
            self.metrics.http_requests.labels(method, template, str(status)).inc()
            if status >= 400:
                self.metrics.count_error(_error_code(bytes(error_body), status), "http")


def _error_code(body: bytes, status: int) -> str:
    try:
        return str(json.loads(body)["code"])
    except (ValueError, KeyError, TypeError):
        return "INTERNAL" if status >= 500 else "OTHER"
