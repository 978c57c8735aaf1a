"""/invitation-codes: admins only."""

from __future__ import annotations

from fastapi import APIRouter

from inner_circle.protocol.rest import InviteCreateIn, InviteOut
from inner_circle.server.http.deps import CurrentActor, Uow
from inner_circle.server.services import invites

router = APIRouter(prefix="/invitation-codes", tags=["invitations"])


@router.post("/generate", response_model=InviteOut, status_code=201, operation_id="createInvite")
async def generate(actor: CurrentActor, uows: Uow, body: InviteCreateIn | None = None) -> InviteOut:
    """Create an invitation code: single-use unless ``usageLimit``; optional expiry."""
    async with uows.write() as uow:
        invite = await invites.create_invite(uow, actor, body or InviteCreateIn())
        await uow.commit()
    return invite


@router.get("", response_model=list[InviteOut], operation_id="listInvites")
async def list_all(actor: CurrentActor, uows: Uow) -> list[InviteOut]:
    async with uows.read() as uow:
        return await invites.list_invites(uow, actor)


@router.delete("/{invite_ref}", response_model=InviteOut, operation_id="revokeInvite")
async def revoke(invite_ref: str, actor: CurrentActor, uows: Uow) -> InviteOut:
    """Revoke a code, by its id or by the code itself."""
    async with uows.write() as uow:
        invite = await invites.revoke_invite(uow, actor, invite_ref)
        await uow.commit()
    return invite
