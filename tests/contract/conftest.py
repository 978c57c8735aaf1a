"""Apps (the seed's Flutter client's requests) against the live server of ``family``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest_asyncio

from tests.contract.app import App, join
from tests.support import Family

Join = Callable[[str], Awaitable[App]]


@pytest_asyncio.fixture
async def app_of(family: Family) -> AsyncIterator[Join]:
    """``await app_of("anna")``: a new member signed in with the app's requests."""
    opened: list[App] = []

    async def make(username: str) -> App:
        app = await join(family, username)
        opened.append(app)
        return app

    yield make
    for app in opened:
        await app.close()
