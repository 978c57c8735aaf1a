"""Shared test machinery: real databases, a real server in a thread, real clients.

Servers as separate processes, PostgreSQL and Redis come from the top-level ``harness``
package (shared with ``bench/``); this module adds the tests' settings to them.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import threading
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest
import uvicorn
from prometheus_client.parser import text_string_to_metric_families

from harness import (
    PASSWORD,
    Postgres,
    Redis,
    SeaweedS3,
    ServerGroup,
    free_port,
    free_ports,
    in_thread,
)
from inner_circle.core.clock import Clock, utc_now
from inner_circle.protocol.rest import InviteCreateIn
from inner_circle.sdk import InnerCircleClient
from inner_circle.server.app import create_app
from inner_circle.server.bootstrap import operator_uows
from inner_circle.server.serving import protocols
from inner_circle.server.settings import Settings

T = TypeVar("T")
REQUIRE_SERVICES = os.environ.get("INNER_CIRCLE_REQUIRE_SERVICES") == "1"
POSTGRES_URL = os.environ.get(
    "INNER_CIRCLE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("INNER_CIRCLE_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
POSTGRES = Postgres(POSTGRES_URL)
REDIS = Redis(REDIS_URL)
FAST_HASHING = {"argon2_memory_kib": 1024, "argon2_time_cost": 1}
# The settings every server process under test gets (the environment form of make_settings).
PROCESS_ENV = {
    "INNER_CIRCLE_ARGON2_MEMORY_KIB": str(FAST_HASHING["argon2_memory_kib"]),
    "INNER_CIRCLE_ARGON2_TIME_COST": str(FAST_HASHING["argon2_time_cost"]),
}

__all__ = [
    "PASSWORD",
    "POSTGRES",
    "REDIS",
    "Family",
    "Samples",
    "ShiftedClock",
    "StartServer",
    "ThreadedServer",
    "free_port",
    "free_ports",
    "in_thread",
    "make_settings",
    "metric_value",
    "metrics_samples",
    "need_service",
    "process_server",
    "run_async",
    "s3_settings",
    "threaded_servers",
]


class ShiftedClock:
    """The system clock, moved forward by ``shift`` when a test says time has passed."""

    def __init__(self) -> None:
        self.shift = timedelta()

    def now(self) -> datetime:
        return utc_now() + self.shift


Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def metrics_samples(text: str) -> Samples:
    """A ``/metrics`` answer as ``{(sample name, labels): value}``."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return found


def metric_value(found: Samples, name: str, **labels: str) -> float:
    """One sample of :func:`metrics_samples` (0 when it is not there yet)."""
    return found.get((name, frozenset(labels.items())), 0.0)


def run_async(coroutine: Coroutine[Any, Any, T]) -> T:
    return in_thread(asyncio.run, coroutine)


def s3_settings(seaweed: SeaweedS3) -> dict[str, Any]:
    """Settings for a media store on SeaweedFS (the ``seaweed`` fixture), under a key prefix
    of its own (a bucket shared by the session's tests)."""
    return {
        "media_backend": "s3",
        "media_s3_endpoint": seaweed.endpoint,
        "media_s3_bucket": "ic-tests",
        "media_s3_prefix": f"{uuid.uuid4().hex[:12]}/",
        "media_s3_access_key": seaweed.ACCESS_KEY,
        "media_s3_secret_key": seaweed.SECRET_KEY,
    }


def need_service(reason: str) -> None:
    """Skip, or fail when CI says every service must be there (INNER_CIRCLE_REQUIRE_SERVICES=1)."""
    if REQUIRE_SERVICES:
        pytest.fail(f"required service missing: {reason}")
    pytest.skip(reason)


def process_server(folder: Path, **options: Any) -> ServerGroup:
    """``inner-circle serve`` process(es) with the tests' settings, not started yet
    (:class:`harness.ServerGroup`; ``env=`` adds settings, ``database=``, ``redis=`` ...)."""
    env = {**PROCESS_ENV, **options.pop("env", {})}
    return ServerGroup(folder, env=env, **options)


def make_settings(database_url: str, data_dir: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "data_dir": data_dir,
        "jwt_secret": "t" * 48,
        "log_level": "WARNING",
        # Tests send faster than any person; the limits have tests of their own.
        "limit_message_burst": 100_000,
        "limit_message_per_second": 100_000.0,
        "limit_socket_event_burst": 100_000,
        "limit_socket_events_per_second": 100_000.0,
        # Replays are theft in the session tests; the grace for lost answers has its own tests.
        "refresh_reuse_grace_seconds": 0,
        **FAST_HASHING,
    }
    values.update(overrides)
    return Settings(**values)


class ThreadedServer:
    """uvicorn serving ``create_app(settings)`` on its own loop in a thread."""

    def __init__(self, settings: Settings, clock: Clock | None = None) -> None:
        self.settings = settings
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.port = int(self.sock.getsockname()[1])
        self.url = f"http://127.0.0.1:{self.port}"
        self.app = create_app(settings, clock=clock)
        config = uvicorn.Config(
            self.app,
            log_level="warning",
            lifespan="on",
            timeout_graceful_shutdown=2,
            **protocols(),  # the transport `inner-circle serve` runs
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True
        )

    async def start(self) -> None:
        self.thread.start()
        for _ in range(1000):
            if self.server.started:
                return
            if not self.thread.is_alive():
                raise RuntimeError("the test server failed to start")
            await asyncio.sleep(0.01)  # polling a condition, bounded: 10 s at most
        raise RuntimeError("the test server did not start within 10 s")

    async def stop(self) -> None:
        self.server.should_exit = True
        await asyncio.to_thread(self.thread.join, 10)
        self.sock.close()


StartServer = Callable[..., Awaitable["Family"]]


@asynccontextmanager
async def threaded_servers(database_url: str, data_dir: Path) -> AsyncIterator[StartServer]:
    """``await start(clock=None, **settings)``: a :class:`ThreadedServer` on ``database_url``
    with member helpers (:class:`Family`); all of them are closed when the block ends.
    Several servers may share the database (and Redis), like processes behind one proxy."""
    started: list[tuple[ThreadedServer, Family]] = []

    async def start(clock: Clock | None = None, **overrides: Any) -> Family:
        server = ThreadedServer(make_settings(database_url, data_dir, **overrides), clock=clock)
        await server.start()
        handle = Family(server)
        started.append((server, handle))
        return handle

    try:
        yield start
    finally:
        for server, handle in reversed(started):
            await handle.close()
            await server.stop()


class Family:
    """A live server plus helpers to create invitations and members through the real API."""

    def __init__(self, server: ThreadedServer | ServerGroup) -> None:
        self.server = server
        self.url = server.url
        self.settings = server.settings
        self._clients: list[InnerCircleClient] = []
        self._uows, self._engine = operator_uows(server.settings)

    async def operator(self, work: Callable[[Any], Any]) -> Any:
        """Run ``work(uow)`` as the operator (like the CLI) and commit."""
        async with self._uows.write() as uow:
            result = await work(uow)
            await uow.commit()
            return result

    async def invite(self, *, admin: bool = False, uses: int = 1) -> str:
        from inner_circle.server.services.invites import issue_invite

        body = InviteCreateIn(is_admin=admin, usage_limit=uses)
        invite = await self.operator(lambda uow: issue_invite(uow, body, created_by=None))
        return str(invite.code)

    def client(self) -> InnerCircleClient:
        client = InnerCircleClient(self.url)
        self._clients.append(client)
        return client

    async def member(
        self, name: str | None = None, *, admin: bool = False, connect: bool = False
    ) -> InnerCircleClient:
        """Register through an invitation, log in, optionally open the socket."""
        username = name or f"u{uuid.uuid4().hex[:10]}"
        client = self.client()
        await client.register(username, PASSWORD, await self.invite(admin=admin))
        await client.login(username, PASSWORD)
        if connect:
            await client.connect()
        return client

    async def device(self, of: InnerCircleClient, *, connect: bool = True) -> InnerCircleClient:
        """A second device of the same member: its own login and connection."""
        assert of.user is not None
        client = self.client()
        await client.login(of.user.username, PASSWORD)
        if connect:
            await client.connect()
        return client

    async def close(self) -> None:
        for client in self._clients:
            await client.close()
        await self._engine.dispose()  # type: ignore[attr-defined]


def copy_sqlite(template: Path, target: Path) -> None:
    shutil.copyfile(template, target)
