"""Fixtures: each test gets a fresh database (SQLite and PostgreSQL) behind a live server."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from inner_circle.server.db import migrate
from tests.support import (
    FAST_HASHING,
    PASSWORD,
    POSTGRES_URL,
    Family,
    ThreadedServer,
    copy_sqlite,
    free_port,
    in_thread,
    make_settings,
    need_service,
    run_async,
)

ROOT = Path(__file__).resolve().parent.parent


# --- databases ----------------------------------------------------------------------------


def _postgres_admin_url() -> str:
    return POSTGRES_URL.replace("postgresql://", "postgresql+asyncpg://", 1)


async def _pg_execute(*statements: str) -> None:
    import asyncpg

    dsn = POSTGRES_URL
    connection = await asyncpg.connect(dsn, timeout=5)
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


def _pg_available() -> bool:
    try:
        run_async(_pg_execute("SELECT 1"))
    except Exception:
        return False
    return True


def _pg_url(name: str) -> str:
    base, _, _ = POSTGRES_URL.rpartition("/")
    return f"{base}/{name}".replace("postgresql://", "postgresql+asyncpg://", 1)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    in_thread(migrate.upgrade, f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[str]:
    if not _pg_available():
        need_service(f"PostgreSQL is not reachable at {POSTGRES_URL}")
    name = f"ic_template_{os.getpid()}"
    run_async(_pg_execute(f'DROP DATABASE IF EXISTS "{name}"', f'CREATE DATABASE "{name}"'))
    in_thread(migrate.upgrade, _pg_url(name))
    yield name
    run_async(_pg_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated database for one test: SQLite, then the same test on PostgreSQL."""
    if request.param == "sqlite":
        target = tmp_path / "inner-circle.db"
        copy_sqlite(request.getfixturevalue("sqlite_template"), target)
        yield f"sqlite+aiosqlite:///{target}"
        return
    template = request.getfixturevalue("postgres_template")
    name = f"ic_test_{uuid.uuid4().hex[:12]}"
    run_async(_pg_execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    yield _pg_url(name)
    run_async(_pg_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def sqlite_url(sqlite_template: Path, tmp_path: Path) -> str:
    target = tmp_path / "inner-circle.db"
    copy_sqlite(sqlite_template, target)
    return f"sqlite+aiosqlite:///{target}"


# --- a live server ------------------------------------------------------------------------


@pytest_asyncio.fixture
async def family(database_url: str, tmp_path: Path) -> AsyncIterator[Family]:
    """A live server (uvicorn in a thread) on a fresh database, and member helpers."""
    server = ThreadedServer(make_settings(database_url, tmp_path))
    await server.start()
    handle = Family(server)
    try:
        yield handle
    finally:
        await handle.close()
        await server.stop()


# --- the server as a separate process (CLI, browser tests) --------------------------------


class LiveServer:
    """``inner-circle serve`` in a subprocess, driven only through its CLI and HTTP."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "INNER_CIRCLE_ARGON2_MEMORY_KIB": str(FAST_HASHING["argon2_memory_kib"]),
            "INNER_CIRCLE_ARGON2_TIME_COST": str(FAST_HASHING["argon2_time_cost"]),
            "INNER_CIRCLE_DATA_DIR": str(data_dir),
        }
        self.env.pop("INNER_CIRCLE_DATABASE_URL", None)
        self.process: subprocess.Popen[bytes] | None = None

    def cli(self, *args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "inner_circle.cli.main", *args],
            env=self.env,
            capture_output=True,
            text=True,
            input=input,
            timeout=60,
            check=False,
        )

    def start(self) -> None:
        self._log = open(self.data_dir / "server.log", "wb")  # closed in stop()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "inner_circle.cli.main", "serve", "--port", str(self.port)],
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError((self.data_dir / "server.log").read_text())
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)  # polling a condition, bounded by the deadline
        raise RuntimeError("server did not become healthy in 30 s")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(15)
        self._log.close()

    def invite(self, admin: bool = False, uses: int = 1) -> str:
        args = ["invite", "create", "--quiet", "--uses", str(uses)] + (["--admin"] if admin else [])
        result = self.cli(*args)
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()

    def register(
        self, username: str, password: str = PASSWORD, admin: bool = False
    ) -> dict[str, Any]:
        response = httpx.post(
            f"{self.url}/users/register",
            json={"username": username, "password": password, "invitationCode": self.invite(admin)},
        )
        assert response.status_code == 201, response.text
        return dict(response.json())


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    server = LiveServer(tmp_path_factory.mktemp("live"))
    server.start()
    yield server
    server.stop()


def pytest_configure(config: pytest.Config) -> None:
    sys.path.insert(0, str(ROOT))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Browser tests last: Playwright's sync API keeps an event loop on the main thread."""
    items.sort(key=lambda item: item.nodeid.startswith("tests/e2e/"))
