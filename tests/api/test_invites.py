"""Invitation codes: admins create, list and revoke; limits and expiry hold."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from inner_circle.sdk import BadRequest, NotFoundError
from inner_circle.server.db.models import InvitationCode
from tests.support import Family


async def test_admin_creates_single_use_code_by_default(family: Family) -> None:
    admin = await family.member("boss", admin=True)
    invite = await admin.create_invite()
    assert invite.usage_limit == 1 and invite.status == "active" and not invite.is_admin
    await family.client().register("anna", "secret1", invite.code)
    listed = {i.code: i for i in await admin.invites()}
    assert listed[invite.code].status == "used"
    assert listed[invite.code].is_used and listed[invite.code].used_count == 1


async def test_usage_limit_allows_exactly_n_members(family: Family) -> None:
    admin = await family.member("boss", admin=True)
    invite = await admin.create_invite(usage_limit=2)
    await family.client().register("anna", "secret1", invite.code)
    await family.client().register("boris", "secret1", invite.code)
    with pytest.raises(BadRequest) as error:
        await family.client().register("clara", "secret1", invite.code)
    assert error.value.code == "INVITE_USED"


async def test_codes_are_matched_without_dashes_and_case(family: Family) -> None:
    admin = await family.member("boss", admin=True)
    invite = await admin.create_invite()
    typed = invite.code.replace("-", "").lower()
    user = await family.client().register("anna", "secret1", typed)
    assert user.username == "anna"


async def test_expired_code_is_refused(family: Family) -> None:
    admin = await family.member("boss", admin=True)
    invite = await admin.create_invite(expires_in_seconds=3600)
    assert invite.expires_at is not None
    past = datetime.now(UTC) - timedelta(seconds=1)
    await family.operator(
        lambda uow: uow.session.execute(
            update(InvitationCode).where(InvitationCode.id == invite.id).values(expires_at=past)
        )
    )
    with pytest.raises(BadRequest) as error:
        await family.client().register("anna", "secret1", invite.code)
    assert error.value.code == "INVITE_EXPIRED"
    assert {i.id: i.status for i in await admin.invites()}[invite.id] == "expired"


async def test_expiry_must_be_in_the_future(family: Family) -> None:
    admin = await family.member("boss", admin=True)
    with pytest.raises(BadRequest):
        await admin.create_invite(expires_at=datetime.now(UTC) - timedelta(days=1))
    with pytest.raises(BadRequest):
        await admin.create_invite(usage_limit=0)
    assert await admin.invites() == [] or all(
        i.created_by_id is None for i in await admin.invites()
    )


async def test_revoked_code_is_refused(family: Family) -> None:
    admin = await family.member("boss", admin=True)
    invite = await admin.create_invite(usage_limit=5)
    revoked = await admin.revoke_invite(invite.id)
    assert revoked.status == "revoked"
    with pytest.raises(BadRequest) as error:
        await family.client().register("anna", "secret1", invite.code)
    assert error.value.code == "INVITE_REVOKED"
    with pytest.raises(NotFoundError):
        await admin.revoke_invite("NOPE-NOPE-NOPE")


async def test_admin_can_invite_another_admin(family: Family) -> None:
    admin = await family.member("boss", admin=True)
    invite = await admin.create_invite(is_admin=True)
    user = await family.client().register("second", "secret1", invite.code)
    assert user.is_admin
