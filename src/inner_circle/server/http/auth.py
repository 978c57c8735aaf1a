"""/auth: login, refresh, logout."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from inner_circle.protocol.rest import LoginIn, RefreshIn, TokenPair
from inner_circle.server.http.deps import ClientAddress, RateLimits, Uow, set_device_cookie
from inner_circle.server.services import auth

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post("/login", response_model=TokenPair, operation_id="login")
async def login(
    body: LoginIn,
    uows: Uow,
    limits: RateLimits,
    address: ClientAddress,
    request: Request,
    response: Response,
) -> TokenPair:
    """Sign in with username and password; returns an access token and a refresh token.

    429 ``RATE_LIMITED`` (with ``Retry-After``) after repeated failures for the username
    or from the address. A success sets a known-device cookie: a username lock raised
    by guesses from elsewhere does not apply to a client that signed in before."""
    device = limits.known_device(body.username, request.cookies)
    async with limits.login_attempt(body.username, address, device):
        pair = await auth.login(uows, body)
    set_device_cookie(request, response, limits.device_cookie(body.username, device))
    return pair


@router.post("/refresh", response_model=TokenPair, operation_id="refresh")
async def refresh(body: RefreshIn, uows: Uow) -> TokenPair:
    """Swap a refresh token for a new pair (the old refresh token stops working)."""
    async with uows.write() as uow:
        pair = await auth.refresh(uow, body.refresh_token)
        await uow.commit()
    return pair


@router.post("/logout", status_code=204, operation_id="logout")
async def logout(body: RefreshIn, uows: Uow) -> Response:
    """End the session the refresh token belongs to."""
    async with uows.write() as uow:
        await auth.logout(uow, body.refresh_token)
        await uow.commit()
    return Response(status_code=204)
