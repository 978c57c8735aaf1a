"""Fixtures for the delivery tests: servers we can kill and databases we can stop.

The server processes are the harness's (:class:`harness.ServerGroup`): ``start``,
``kill``, ``stop`` and, from async code, ``astart``, ``astop`` and ``astatus``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio

from harness import Postgres, PrivatePostgres, ServerGroup
from tests.delivery.harness import delivery_server
from tests.support import Family, need_service


@pytest.fixture
def pg_url(postgres: Postgres, postgres_template: str) -> Iterator[str]:
    """A fresh, migrated database on the shared PostgreSQL (copied from the test template)."""
    url = postgres.create_database("ic_delivery", template=postgres_template)
    yield url
    postgres.drop_database(url)


@pytest_asyncio.fixture
async def server_process(pg_url: str, tmp_path: Path) -> AsyncIterator[ServerGroup]:
    """``inner-circle serve`` in a subprocess on a fresh PostgreSQL database."""
    server = delivery_server(pg_url, tmp_path / "data")
    await server.astart()
    try:
        yield server
    finally:
        await server.aclose()


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
async def outage_server(private_pg: PrivatePostgres, tmp_path: Path) -> AsyncIterator[ServerGroup]:
    """``inner-circle serve`` on a database in the private cluster (migrated at start)."""
    server = delivery_server(await private_pg.create_database(), tmp_path / "data")
    await server.astart()
    try:
        yield server
    finally:
        await server.aclose()


@pytest_asyncio.fixture
async def crash_family(server_process: ServerGroup) -> AsyncIterator[Family]:
    """Member helpers for :func:`server_process` (``crash_family.server`` is the process)."""
    family = Family(server_process)
    try:
        yield family
    finally:
        await family.close()


@pytest_asyncio.fixture
async def outage_family(outage_server: ServerGroup) -> AsyncIterator[Family]:
    """Member helpers for :func:`outage_server`."""
    family = Family(outage_server)
    try:
        yield family
    finally:
        await family.close()
