"""Request dependencies: the server's parts, units of work and the current member."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from inner_circle.core.actor import Actor
from inner_circle.core.addresses import limit_key
from inner_circle.core.errors import Unauthenticated
from inner_circle.server.db.uow import UnitOfWorkFactory
from inner_circle.server.limits import Limits
from inner_circle.server.services import auth
from inner_circle.server.services.group_commit import SendBatcher

__all__ = [
    "AccessToken",
    "ClientAddress",
    "CurrentActor",
    "RateLimits",
    "Sends",
    "Uow",
    "client_host",
    "get_uow_factory",
    "set_device_cookie",
]

_bearer = HTTPBearer(auto_error=False)

# Every dependency here is ``async def`` although none awaits: FastAPI runs a plain
# ``def`` dependency in its thread pool, a hop to another thread and back on every
# request (under load, the request then waits a whole event-loop turn per hop).


async def get_uow_factory(request: Request) -> UnitOfWorkFactory:
    return request.app.state.uow_factory  # type: ignore[no-any-return]


Uow = Annotated[UnitOfWorkFactory, Depends(get_uow_factory)]


async def access_token(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> str:
    if credentials is None or not credentials.credentials:
        raise Unauthenticated("Sign in first: send Authorization: Bearer <access token>")
    return credentials.credentials


# The bearer token, not yet checked: for the busiest reads (history pages, sync), which
# check it with ``auth.authenticate`` in their own read unit of work, one session for both.
AccessToken = Annotated[str, Depends(access_token)]


async def current_actor(uows: Uow, token: AccessToken) -> Actor:
    async with uows.read() as uow:
        return await auth.authenticate(uow, token)


CurrentActor = Annotated[Actor, Depends(current_actor)]


async def get_limits(request: Request) -> Limits:
    return request.app.state.limits  # type: ignore[no-any-return]


def client_host(request: Request) -> str | None:
    """The caller's address (behind a trusted proxy, uvicorn's proxy headers put the real one here)."""
    return request.client.host if request.client else None


async def client_address(request: Request) -> str | None:
    """The caller's address as rate limits count it: IPv6 clients by their /64 network
    (one household or attacker holds a whole /64), IPv4 clients by their address."""
    host = client_host(request)
    return limit_key(host) if host else None


async def get_sends(request: Request) -> SendBatcher:
    return request.app.state.sends  # type: ignore[no-any-return]


RateLimits = Annotated[Limits, Depends(get_limits)]
Sends = Annotated[SendBatcher, Depends(get_sends)]
ClientAddress = Annotated[str | None, Depends(client_address)]


def set_device_cookie(
    request: Request, response: Response, cookie: tuple[str, str, int] | None
) -> None:
    """Set the known-device marker (see ``server/limits/devices.py``) on a response."""
    if cookie is None:
        return
    name, value, max_age = cookie
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",  # behind a trusted proxy: X-Forwarded-Proto
    )
