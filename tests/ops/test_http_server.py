"""The real ``inner-circle serve`` facing clients without a proxy: slow requests are cut off,
connections are bounded, /metrics is not public."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator

import httpx
import pytest

from harness import ServerGroup
from tests.conftest import StartProcess

READ_TIMEOUT = 1.0


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


@pytest.fixture
def strict_server(start_process: StartProcess) -> ServerGroup:
    return start_process(env={"INNER_CIRCLE_REQUEST_READ_TIMEOUT_SECONDS": str(READ_TIMEOUT)})


async def test_slow_headers_and_silent_connections_are_closed(strict_server: ServerGroup) -> None:
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


async def test_connections_beyond_the_limit_get_503(start_process: StartProcess) -> None:
    server = start_process(
        env={
            "INNER_CIRCLE_LIMIT_CONCURRENCY": "3",
            "INNER_CIRCLE_REQUEST_READ_TIMEOUT_SECONDS": "30",
        }
    )
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


@pytest.fixture
def workers_url(start_process: StartProcess) -> str:
    """``inner-circle serve --workers 2``: each worker builds its app with the factory."""
    server = start_process(
        database="postgres",
        redis=True,
        workers=2,
        env={"INNER_CIRCLE_REQUEST_READ_TIMEOUT_SECONDS": str(READ_TIMEOUT)},
    )
    return server.url


@pytest.mark.postgres
@pytest.mark.redis
async def test_workers_cut_off_slow_requests_too(workers_url: str) -> None:
    # Connections land on either worker; each one cuts off its slow clients.
    socks = [open_raw(workers_url, b"GET / HTTP/1.1\r\nHost: x\r\n") for _ in range(4)]
    waited = await asyncio.gather(*(asyncio.to_thread(seconds_until_closed, s) for s in socks))
    assert all(w < READ_TIMEOUT + 4 for w in waited), waited


async def test_a_slow_but_steady_upload_chunk_is_not_cut_off(strict_server: ServerGroup) -> None:
    """An upload chunk that takes longer than the read deadline, arriving steadily (a phone
    on a slow link), is received whole; a PATCH that stalls is still cut off."""
    from tests.support import Family

    family = Family(strict_server)
    try:
        anna = await family.member("anna")
        created = await anna.request(
            "POST", "/uploads", headers={"Tus-Resumable": "1.0.0", "Upload-Length": str(640 * 1024)}
        )
        upload_id = created.json()["id"]

        async def steady() -> AsyncIterator[bytes]:
            for _ in range(10):  # 64 KiB every 0.3 s: 3 s in all, three read deadlines
                yield b"x" * 64 * 1024
                await asyncio.sleep(READ_TIMEOUT * 0.3)  # the client's pace, not a wait

        async with httpx.AsyncClient(base_url=strict_server.url, timeout=30) as http:
            answer = await http.patch(
                f"/uploads/{upload_id}",
                headers={"Authorization": f"Bearer {anna.access_token}", "Tus-Resumable": "1.0.0",
                         "Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"},
                content=steady(),
            )  # fmt: skip
        assert answer.status_code == 204, answer.text
        assert answer.headers["Upload-Offset"] == str(640 * 1024)
    finally:
        await family.close()
    stalled = open_raw(
        strict_server.url,
        b"PATCH /uploads/00000000-0000-4000-8000-000000000000 HTTP/1.1\r\nHost: x\r\n"
        b"Content-Type: application/offset+octet-stream\r\nContent-Length: 100000\r\n\r\nabc",
    )
    waited = await asyncio.to_thread(seconds_until_closed, stalled)
    assert READ_TIMEOUT * 0.5 < waited < READ_TIMEOUT + 4
