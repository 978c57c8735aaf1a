"""Fixtures for the delivery tests: servers we can kill and databases we can stop."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio

from tests.delivery.harness import PrivatePostgres, ServerProcess, create_database, drop_database
from tests.support import POSTGRES_URL, Family, need_service


@pytest_asyncio.fixture
async def pg_url(postgres_template: str) -> AsyncIterator[str]:
    """A fresh, migrated database on the shared PostgreSQL (copied from the test template)."""
    url = await create_database(POSTGRES_URL, template=postgres_template)
    yield url
    await drop_database(POSTGRES_URL, url)


@pytest_asyncio.fixture
async def server_process(pg_url: str, tmp_path: Path) -> AsyncIterator[ServerProcess]:
    """``inner-circle serve`` in a subprocess on a fresh PostgreSQL database."""
    server = ServerProcess(pg_url, tmp_path / "data")
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
def private_pg() -> Iterator[PrivatePostgres]:
    """A PostgreSQL cluster of this test's own, which the test may stop and start."""
    reason = PrivatePostgres.unavailable_reason()
    if reason is not None:
        need_service(reason)
    cluster = PrivatePostgres()
    cluster.init()
    try:
        yield cluster
    finally:
        cluster.destroy()


@pytest_asyncio.fixture
async def outage_server(
    private_pg: PrivatePostgres, tmp_path: Path
) -> AsyncIterator[ServerProcess]:
    """``inner-circle serve`` on a database in the private cluster (migrated at start)."""
    server = ServerProcess(await private_pg.create_database(), tmp_path / "data")
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest_asyncio.fixture
async def crash_family(server_process: ServerProcess) -> AsyncIterator[Family]:
    """Member helpers for :func:`server_process` (``crash_family.server`` is the process)."""
    family = Family(server_process)  # type: ignore[arg-type]
    try:
        yield family
    finally:
        await family.close()


@pytest_asyncio.fixture
async def outage_family(outage_server: ServerProcess) -> AsyncIterator[Family]:
    """Member helpers for :func:`outage_server`."""
    family = Family(outage_server)  # type: ignore[arg-type]
    try:
        yield family
    finally:
        await family.close()
