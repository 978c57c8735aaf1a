"""Fixtures for the delivery tests: servers we can kill and databases we can stop.

The server processes are the harness's (:class:`harness.ServerGroup`): ``start``,
``kill``, ``stop`` and, from async code, ``astart``, ``astop`` and ``astatus``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
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


@asynccontextmanager
async def serving(database_url: str, tmp_path: Path) -> AsyncIterator[tuple[ServerGroup, Family]]:
    """A running delivery server on ``database_url`` and member helpers for it."""
    server = delivery_server(database_url, tmp_path / "data")
    await server.astart()
    family = Family(server)
    try:
        yield server, family
    finally:
        await family.close()
        await server.aclose()


def process_of(family: Family) -> ServerGroup:
    assert isinstance(family.server, ServerGroup)
    return family.server


@pytest_asyncio.fixture
async def crash_family(pg_url: str, tmp_path: Path) -> AsyncIterator[Family]:
    """Member helpers for ``inner-circle serve`` in a subprocess on a fresh PostgreSQL
    database (``crash_family.server`` is the process, to kill and start again)."""
    async with serving(pg_url, tmp_path) as (_, family):
        yield family


@pytest.fixture
def server_process(crash_family: Family) -> ServerGroup:
    """The server process of :func:`crash_family`."""
    return process_of(crash_family)


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
async def outage_family(private_pg: PrivatePostgres, tmp_path: Path) -> AsyncIterator[Family]:
    """Member helpers for ``inner-circle serve`` on a database in the private cluster
    (migrated at start; ``outage_family.server`` is the process)."""
    async with serving(await private_pg.create_database(), tmp_path) as (_, family):
        yield family


@pytest.fixture
def outage_server(outage_family: Family) -> ServerGroup:
    """The server process of :func:`outage_family`."""
    return process_of(outage_family)
