from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest_asyncio

from inner_circle.sdk import InnerCircleClient
from tests.calls.support import CallSocket, call_socket
from tests.support import Family

Sockets = Callable[[Family, InnerCircleClient], Awaitable[CallSocket]]


@pytest_asyncio.fixture
async def sockets() -> AsyncIterator[Sockets]:
    """``await sockets(family, member)``: a connected ``/calls`` socket, closed afterwards."""
    opened: list[CallSocket] = []

    async def open_one(family: Family, member: InnerCircleClient) -> CallSocket:
        sock = await call_socket(family.url, member)
        opened.append(sock)
        return sock

    yield open_one
    for sock in opened:
        await sock.close()
