"""/users: registration, profiles, members; admin actions on members."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, Response

from inner_circle.protocol.rest import (
    FcmTokenIn,
    PasswordChangeIn,
    PasswordResetIn,
    ProfileUpdateIn,
    RegisterIn,
    UserOut,
)
from inner_circle.server.http.deps import ClientAddress, CurrentActor, RateLimits, Uow
from inner_circle.server.services import accounts

router = APIRouter(prefix="/users", tags=["users"])


@router.post("/register", response_model=UserOut, status_code=201, operation_id="register")
async def register(
    body: RegisterIn, uows: Uow, limits: RateLimits, address: ClientAddress
) -> UserOut:
    """Join the family with an invitation code (400 bad/used code, 409 username taken,
    429 after repeated wrong codes from the address)."""
    async with limits.registration_attempt(address):
        return await accounts.register_with_invite(uows, body)


@router.get("/profile", response_model=UserOut, operation_id="getProfile")
async def profile(actor: CurrentActor, uows: Uow) -> UserOut:
    async with uows.read() as uow:
        return await accounts.get_profile(uow, actor)


@router.patch("/profile", response_model=UserOut, operation_id="updateProfile")
async def update_profile(body: ProfileUpdateIn, actor: CurrentActor, uows: Uow) -> UserOut:
    async with uows.write() as uow:
        user = await accounts.update_profile(uow, actor, body)
        await uow.commit()
    return user


@router.post("/profile/password", status_code=204, operation_id="changePassword")
async def change_password(
    body: PasswordChangeIn,
    actor: CurrentActor,
    uows: Uow,
    limits: RateLimits,
    address: ClientAddress,
    request: Request,
) -> Response:
    """Change my password; every session of mine ends (sign in again with the new one).

    400 ``WRONG_PASSWORD`` when the current password is wrong (not 401: the session is
    fine). The check counts like a sign-in attempt: 429 ``RATE_LIMITED`` under the same
    per-username and per-address locks as ``/auth/login``."""
    device = limits.known_device(actor.username, request.cookies)
    async with limits.password_check(actor.username, address, device):
        await accounts.change_password(uows, actor, body)
    return Response(status_code=204)


@router.post("/fcm-token", status_code=200, operation_id="saveFcmToken")
async def save_fcm_token(body: FcmTokenIn, actor: CurrentActor, uows: Uow) -> Response:
    """Register this device's FCM token for push notifications (kept per session, forgotten
    at logout). The seed's app calls it after every login; 200 with no body, as the seed."""
    async with uows.write() as uow:
        await accounts.save_fcm_token(uow, actor, body.fcm_token)
        await uow.commit()
    return Response(status_code=200)


@router.get("", response_model=list[UserOut], operation_id="listMembers")
async def list_members(actor: CurrentActor, uows: Uow, include_self: bool = False) -> list[UserOut]:
    """Every family member but me (``?includeSelf=true`` for all)."""
    async with uows.read() as uow:
        return await accounts.list_members(uow, actor, include_self=include_self)


@router.get("/{user_id}", response_model=UserOut, operation_id="getMember")
async def get_member(user_id: uuid.UUID, actor: CurrentActor, uows: Uow) -> UserOut:
    async with uows.read() as uow:
        return await accounts.get_member(uow, actor, user_id)


@router.post("/{user_id}/deactivate", response_model=UserOut, operation_id="deactivateMember")
async def deactivate(user_id: uuid.UUID, actor: CurrentActor, uows: Uow) -> UserOut:
    """Admins: deactivate a member (sessions end at once; history stays)."""
    async with uows.write() as uow:
        user = await accounts.deactivate_member(uow, actor, user_id)
        await uow.commit()
    return user


@router.post("/{user_id}/reset-password", status_code=204, operation_id="resetPassword")
async def reset_password(
    user_id: uuid.UUID, body: PasswordResetIn, actor: CurrentActor, uows: Uow
) -> Response:
    """Admins: set a member's password (their sessions end)."""
    await accounts.reset_password(uows, actor, user_id, body)
    return Response(status_code=204)
