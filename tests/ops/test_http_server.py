"""The real ``inner-circle serve`` facing clients without a proxy: slow requests are cut off,
connections are bounded, /metrics is not public."""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio

from tests.conftest import LiveServer, _pg_available, _pg_execute
from tests.support import POSTGRES_URL, REDIS_URL, free_port, need_service, run_async

READ_TIMEOUT = 1.0
SERVE = [sys.executable, "-m", "inner_circle.cli.main", "serve"]


def open_raw(url: str, first_bytes: bytes) -> socket.socket:
    host, port = url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=10)
    if first_bytes:
        sock.sendall(first_bytes)
    return sock


def seconds_until_closed(sock: socket.socket) -> float:
    """Block until the server closes the connection (recv returns b""); at most the socket's
    10 s timeout, which fails the test with socket.timeout."""
    started = time.monotonic()
    with sock:
        while True:
            try:
                chunk = sock.recv(4096)
            except ConnectionResetError:
                break
            if not chunk:
                break
    return time.monotonic() - started


@pytest_asyncio.fixture
async def strict_server(tmp_path: Path) -> AsyncIterator[LiveServer]:
    server = LiveServer(tmp_path)
    server.env["INNER_CIRCLE_REQUEST_READ_TIMEOUT_SECONDS"] = str(READ_TIMEOUT)
    await asyncio.to_thread(server.start)
    yield server
    await asyncio.to_thread(server.stop)


async def test_slow_headers_and_silent_connections_are_closed(strict_server: LiveServer) -> None:
    partial = open_raw(strict_server.url, b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: 1\r\n")
    silent = open_raw(strict_server.url, b"")
    slow_body = open_raw(
        strict_server.url,
        b"POST /auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: 100\r\n\r\n{",
    )
    waited = await asyncio.gather(
        *(asyncio.to_thread(seconds_until_closed, s) for s in (partial, silent, slow_body))
    )
    assert all(READ_TIMEOUT * 0.5 < w < READ_TIMEOUT + 4 for w in waited), waited
    # A whole request is answered as usual.
    with open_raw(strict_server.url, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n") as sock:
        answer = sock.recv(4096)
        assert answer.startswith(b"HTTP/1.1 200")


async def test_connections_beyond_the_limit_get_503(tmp_path: Path) -> None:
    server = LiveServer(tmp_path)
    server.env["INNER_CIRCLE_LIMIT_CONCURRENCY"] = "3"
    server.env["INNER_CIRCLE_REQUEST_READ_TIMEOUT_SECONDS"] = "30"
    await asyncio.to_thread(server.start)
    try:
        held = [open_raw(server.url, b"GET / HTTP/1.1\r\nHost: x\r\n") for _ in range(2)]
        async with httpx.AsyncClient(base_url=server.url) as http:
            busy = await http.get("/healthz")
            assert busy.status_code == 503
            for sock in held:
                sock.close()
            deadline = time.monotonic() + 10
            while (await http.get("/healthz")).status_code != 200:
                assert time.monotonic() < deadline, "connections were not released"
                await asyncio.sleep(0.05)  # polling a condition, bounded by the deadline
    finally:
        await asyncio.to_thread(server.stop)


@pytest.fixture
def postgres_redis_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    if not _pg_available():
        need_service(f"PostgreSQL is not reachable at {POSTGRES_URL}")
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError:
        need_service(f"Redis is not reachable at {REDIS_URL}")
    name = f"ic_http_{uuid.uuid4().hex[:12]}"
    run_async(_pg_execute(f'CREATE DATABASE "{name}"'))
    base = POSTGRES_URL.rsplit("/", 1)[0]
    yield {
        **os.environ,
        "INNER_CIRCLE_DATABASE_URL": f"{base}/{name}",
        "INNER_CIRCLE_REDIS_URL": REDIS_URL,
        "INNER_CIRCLE_REDIS_KEY_PREFIX": name,
        "INNER_CIRCLE_JWT_SECRET": secrets.token_urlsafe(48),
        "INNER_CIRCLE_DATA_DIR": str(tmp_path / "data"),
        "INNER_CIRCLE_LOG_LEVEL": "WARNING",
        "INNER_CIRCLE_REQUEST_READ_TIMEOUT_SECONDS": str(READ_TIMEOUT),
    }
    run_async(_pg_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def workers_url(postgres_redis_env: dict[str, str], tmp_path: Path) -> Iterator[str]:
    """``inner-circle serve --workers 2``: each worker builds its app with the factory."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with open(tmp_path / "server.log", "wb") as log:
        process = subprocess.Popen(
            [*SERVE, "--port", str(port), "--workers", "2"],
            env=postgres_redis_env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 60
            while True:
                assert process.poll() is None, (tmp_path / "server.log").read_text()
                assert time.monotonic() < deadline, "workers did not become healthy"
                try:
                    if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)  # polling a condition, bounded by the deadline
            yield url
        finally:
            process.terminate()
            process.wait(20)


@pytest.mark.postgres
@pytest.mark.redis
async def test_workers_cut_off_slow_requests_too(workers_url: str) -> None:
    # Connections land on either worker; each one cuts off its slow clients.
    socks = [open_raw(workers_url, b"GET / HTTP/1.1\r\nHost: x\r\n") for _ in range(4)]
    waited = await asyncio.gather(*(asyncio.to_thread(seconds_until_closed, s) for s in socks))
    assert all(w < READ_TIMEOUT + 4 for w in waited), waited
