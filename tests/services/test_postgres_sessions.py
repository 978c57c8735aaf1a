"""How units of work use PostgreSQL's connections (``db/engine.py``, ``db/uow.py``): readers
run each statement on its own, a search still plans with its transaction's setting, and a
pooled connection whose backend went away is replaced (pinged after an idle spell) or costs
one ``UNAVAILABLE`` answer (used again at once)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from inner_circle.core.errors import Unavailable
from inner_circle.server.db import engine as engine_module
from inner_circle.server.repositories import search as search_repo
from tests.delivery.harness import wait_until
from tests.services.conftest import World
from tests.services.test_driver_sql import _backend_gone
from tests.support import POSTGRES

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.parametrize("database_url", ["postgres"], indirect=True),
]


async def _read(world: World, work: Any) -> Any:
    async with world.uows.read() as uow:
        return await work(uow)


async def _backend_pid(uow: Any) -> int:
    return int(await uow.session.scalar(text("SELECT pg_backend_pid()")))


async def test_a_reader_runs_each_statement_outside_a_transaction(world: World) -> None:
    """No BEGIN and ROLLBACK around a reader's statements: ``now()`` is the start of the
    transaction, so inside one it would not move between two statements."""

    async def two_clocks(uow: Any) -> tuple[Any, Any]:
        first = await uow.session.scalar(text("SELECT now()"))
        second = await uow.session.scalar(text("SELECT now()"))
        return first, second

    first, second = await _read(world, two_clocks)
    assert second > first

    async def in_writer(uow: Any) -> tuple[Any, Any]:
        return await two_clocks(uow)

    first, second = await world.run(in_writer)
    assert second == first  # a writer's statements share one transaction


async def test_a_search_plans_with_its_own_setting_and_leaves_none_behind(world: World) -> None:
    async def setting(uow: Any) -> str:
        return str(await uow.session.scalar(text("SHOW plan_cache_mode")))

    async def searching(uow: Any) -> str:
        await search_repo.plan_each_search(uow.session)
        return await setting(uow)

    assert await _read(world, searching) == "force_custom_plan"
    assert await _read(world, setting) == "auto"  # the pooled connection is as it was


async def _lose_the_pooled_connection(world: World) -> int:
    pid = await _read(world, _backend_pid)
    await POSTGRES.execute(f"SELECT pg_terminate_backend({pid})")
    await wait_until(lambda: _backend_gone(pid), timeout=10, what=f"backend {pid} gone")
    return pid


async def test_a_connection_idle_in_the_pool_is_pinged_and_replaced_when_gone(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine_module, "PING_AFTER_IDLE", 0.0)  # every connection is idle
    lost = await _lose_the_pooled_connection(world)
    assert await _read(world, _backend_pid) != lost  # no error: the ping found it gone


async def test_a_connection_used_moments_ago_is_not_pinged_one_request_is_unavailable(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine_module, "PING_AFTER_IDLE", 3600.0)  # never idle long enough
    lost = await _lose_the_pooled_connection(world)
    with pytest.raises(Unavailable):
        await _read(world, _backend_pid)
    assert await _read(world, _backend_pid) != lost  # the pool was renewed
