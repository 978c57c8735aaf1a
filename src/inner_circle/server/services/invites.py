"""Invitation codes: the only way into the family."""

from __future__ import annotations

import uuid
from datetime import timedelta

from inner_circle.core.actor import Actor
from inner_circle.core.errors import ErrorCode, InvalidInvitation, NotFound, ValidationFailed
from inner_circle.core.invites import generate_code, normalise_code
from inner_circle.protocol.rest import InviteCreateIn, InviteOut
from inner_circle.server.access import require_admin
from inner_circle.server.db.models import InvitationCode
from inner_circle.server.db.uow import UnitOfWork
from inner_circle.server.repositories import invites as invites_repo
from inner_circle.server.services.views import invite_out

__all__ = [
    "create_invite",
    "issue_invite",
    "list_invites",
    "redeem_invite",
    "revoke_invite",
    "usable_invite",
]


async def create_invite(uow: UnitOfWork, actor: Actor, body: InviteCreateIn) -> InviteOut:
    """Create an invitation code (admins only).

    Raises:
        Forbidden(ADMIN_ONLY): the actor is not an admin.
        ValidationFailed: the expiry is in the past.
    """
    require_admin(actor)
    return await issue_invite(uow, body, created_by=actor.id)


async def issue_invite(
    uow: UnitOfWork, body: InviteCreateIn, *, created_by: uuid.UUID | None
) -> InviteOut:
    """Create an invitation code without an actor: for the operator's CLI and first start."""
    now = uow.ctx.clock.now()
    expires_at = body.expires_at
    if body.expires_in_seconds is not None:
        expires_at = now + timedelta(seconds=body.expires_in_seconds)
    if expires_at is not None and expires_at <= now:
        raise ValidationFailed("expiresAt must be in the future")
    for _ in range(5):
        draft = InvitationCode(
            id=uuid.uuid4(),
            code=generate_code(),
            usage_limit=body.usage_limit,
            used_count=0,
            is_used=False,
            expires_at=expires_at,
            grants_admin=body.is_admin,
            created_by_id=created_by,
            created_at=now,
            updated_at=now,
        )
        invite = await invites_repo.insert_unless_taken(uow.session, draft)
        if invite is None:  # a 60-bit collision: astronomically rare, but cheap to handle
            continue
        return invite_out(invite, now)
    raise RuntimeError("could not generate a unique invitation code")


async def list_invites(uow: UnitOfWork, actor: Actor) -> list[InviteOut]:
    """All invitation codes, newest first (admins only)."""
    require_admin(actor)
    now = uow.ctx.clock.now()
    return [invite_out(invite, now) for invite in await invites_repo.list_all(uow.session)]


async def revoke_invite(uow: UnitOfWork, actor: Actor | None, invite_ref: str) -> InviteOut:
    """Revoke a code by id or by the code itself; idempotent. ``actor`` None means the operator.

    Raises:
        Forbidden(ADMIN_ONLY): the actor is not an admin.
        NotFound: no such code.
    """
    if actor is not None:
        require_admin(actor)
    invite = await _find(uow, invite_ref)
    now = uow.ctx.clock.now()
    if invite.revoked_at is None:
        invite.revoked_at = now
        invite.updated_at = now
    return invite_out(invite, now)


async def _find(uow: UnitOfWork, invite_ref: str) -> InvitationCode:
    invite = None
    try:
        invite = await invites_repo.by_id(uow.session, uuid.UUID(invite_ref))
    except ValueError:
        pass
    if invite is None:
        invite = await invites_repo.by_code_for_update(uow.session, invite_ref)
    if invite is None:
        invite = await invites_repo.by_code_for_update(uow.session, normalise_code(invite_ref))
    if invite is None:
        raise NotFound("Invitation code not found")
    return invite


async def usable_invite(uow: UnitOfWork, code: str) -> InvitationCode:
    """The invitation ``code`` names, locked for this transaction, if it can still be used.

    Registration calls this before it looks at the username or hashes the password,
    so a wrong code gets the same answer whatever the name and costs no hash.

    Raises:
        InvalidInvitation: unknown, used up, expired or revoked (each with its own code).
    """
    invite = await invites_repo.by_code_for_update(uow.session, code)
    if invite is None:
        invite = await invites_repo.by_code_for_update(uow.session, normalise_code(code))
    if invite is None:
        raise InvalidInvitation("Invalid invitation code", ErrorCode.INVITE_INVALID)
    now = uow.ctx.clock.now()
    status = invite_out(invite, now).status
    if invite.is_used and invite.used_count == 0:
        status = "used"  # a seed-era code marked used before usage counting existed
    problems = {
        "used": ("This invitation code has already been used", ErrorCode.INVITE_USED),
        "expired": ("This invitation code has expired", ErrorCode.INVITE_EXPIRED),
        "revoked": ("This invitation code has been revoked", ErrorCode.INVITE_REVOKED),
    }
    if status in problems:
        message, error_code = problems[status]
        raise InvalidInvitation(message, error_code)
    return invite


def redeem_invite(uow: UnitOfWork, invite: InvitationCode, user_id: uuid.UUID) -> None:
    """Take one use of ``invite`` (from :func:`usable_invite`) for ``user_id``, inside the
    registration's transaction."""
    now = uow.ctx.clock.now()
    invite.used_count += 1
    invite.is_used = invite.used_count >= invite.usage_limit
    invite.used_at = now
    invite.used_by_user_id = user_id
    invite.updated_at = now
