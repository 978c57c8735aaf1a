"""Two real server processes on one PostgreSQL database and one Redis."""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support import FAST_HASHING, POSTGRES_URL, REDIS_URL, free_port, need_service

INNER_CIRCLE = str(Path(sys.executable).parent / "inner-circle")
PRESENCE_TTL = 3.0  # seconds; a killed process's members go offline after about this


async def _pg(*statements: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(POSTGRES_URL, timeout=5)
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


def _redis_ok() -> bool:
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
    finally:
        client.close()


class ServerProcess:
    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._log = open(log, "wb")
        self.process = subprocess.Popen(
            [INNER_CIRCLE, "serve", "--port", str(self.port), "--no-migrate"],
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        self.log = log

    def wait_healthy(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(self.log.read_text())
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)  # polling a condition, bounded by the deadline
        raise RuntimeError(f"{self.url} did not become healthy in 60 s")

    def kill(self) -> None:
        """kill -9: no goodbye to clients, no cleanup of presence."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self._log.close()


class Cluster:
    def __init__(self, env: dict[str, str], folder: Path) -> None:
        self.env = env
        # One after the other: each creates the family chat at startup when there is none,
        # and two racing on an empty database could both create one.
        self.servers: list[ServerProcess] = []
        for i in range(2):
            server = ServerProcess(env, folder / f"server-{i}.log")
            self.servers.append(server)
            server.wait_healthy()

    def invite(self) -> str:
        result = subprocess.run(
            [INNER_CIRCLE, "invite", "create", "--quiet"],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        return result.stdout.strip()


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    try:
        asyncio.run(_pg("SELECT 1"))
    except Exception:
        need_service(f"PostgreSQL is not reachable at {POSTGRES_URL}")
    if not _redis_ok():
        need_service(f"Redis is not reachable at {REDIS_URL}")
    name = f"ic_scale_{uuid.uuid4().hex[:12]}"
    asyncio.run(_pg(f'CREATE DATABASE "{name}"'))
    base = POSTGRES_URL.rsplit("/", 1)[0]
    env = {
        **os.environ,
        "INNER_CIRCLE_DATABASE_URL": f"{base}/{name}",
        "INNER_CIRCLE_REDIS_URL": REDIS_URL,
        # Keys of this cluster only, whatever else shares the Redis database.
        "INNER_CIRCLE_REDIS_KEY_PREFIX": name,
        "INNER_CIRCLE_JWT_SECRET": secrets.token_urlsafe(48),
        "INNER_CIRCLE_DATA_DIR": str(tmp_path / "data"),
        "INNER_CIRCLE_ARGON2_MEMORY_KIB": str(FAST_HASHING["argon2_memory_kib"]),
        "INNER_CIRCLE_ARGON2_TIME_COST": str(FAST_HASHING["argon2_time_cost"]),
        "INNER_CIRCLE_PRESENCE_TTL_SECONDS": str(PRESENCE_TTL),
        "INNER_CIRCLE_LOG_LEVEL": "WARNING",
    }
    subprocess.run([INNER_CIRCLE, "migrate"], env=env, check=True, capture_output=True, timeout=120)
    cluster = None
    try:
        cluster = Cluster(env, tmp_path)
        yield cluster
    finally:
        if cluster is not None:
            for server in cluster.servers:
                server.stop()
        asyncio.run(_pg(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
