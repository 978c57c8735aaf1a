"""The hardening fixtures (servers with chosen settings, Redis) serve the operations tests too."""

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest_asyncio

from tests.conftest import _pg_execute, _pg_url
from tests.security.conftest import redis_prefix, redis_url, server_database_url, start_server

__all__ = [
    "fresh_database",
    "redis_prefix",
    "redis_url",
    "server_database_url",
    "start_server",
]


@pytest_asyncio.fixture
async def fresh_database(database_url: str, tmp_path: Path) -> AsyncIterator[str]:
    """An empty database of the same kind as ``database_url`` (nothing in it, not even a schema)."""
    if database_url.startswith("sqlite"):
        yield f"sqlite+aiosqlite:///{tmp_path / 'restored' / 'inner-circle.db'}"
        return
    name = f"ic_restore_{uuid.uuid4().hex[:12]}"
    await _pg_execute(f'CREATE DATABASE "{name}"')
    yield _pg_url(name)
    await _pg_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
