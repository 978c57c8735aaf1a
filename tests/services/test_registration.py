"""Registration checks the invitation code before anything costly or revealing; so does an
admin's password reset its target."""

from __future__ import annotations

import uuid

import pytest

from inner_circle.core.errors import Conflict, ErrorCode, Forbidden, InvalidInvitation, NotFound
from inner_circle.protocol.rest import InviteCreateIn, PasswordResetIn, RegisterIn
from inner_circle.server.security import PasswordService
from inner_circle.server.services import accounts
from inner_circle.server.services.invites import issue_invite
from tests.services.conftest import World
from tests.support import FAST_HASHING


class CountingPasswords(PasswordService):
    """The real hasher, counting how many hashes it was asked for."""

    hashed = 0

    async def hash(self, password: str) -> str:
        self.hashed += 1
        return await super().hash(password)


async def test_no_password_is_hashed_without_a_usable_code(world: World) -> None:
    await world.member("anna")
    passwords = CountingPasswords(
        FAST_HASHING["argon2_memory_kib"], FAST_HASHING["argon2_time_cost"]
    )
    world.uows.ctx.passwords = passwords

    def join(name: str, code: str) -> RegisterIn:
        return RegisterIn(username=name, password="secret-pw", invitation_code=code)

    for name in ("anna", "newcomer"):  # a taken name and a free one: the same refusal
        with pytest.raises(InvalidInvitation):
            await accounts.register_with_invite(world.uows, join(name, "NOPE-NOPE"))
    assert passwords.hashed == 0

    code = (await world.run(lambda uow: issue_invite(uow, InviteCreateIn(), created_by=None))).code
    with pytest.raises(Conflict):  # a usable code: now the name is checked, still no hash
        await accounts.register_with_invite(world.uows, join("anna", code))
    assert passwords.hashed == 0
    clash = RegisterIn(
        username="newbie", display_name="ANNA", password="secret-pw", invitation_code=code
    )
    with pytest.raises(Conflict) as shown:  # and the name shown, still no hash
        await accounts.register_with_invite(world.uows, clash)
    assert shown.value.code == ErrorCode.DISPLAY_NAME_TAKEN
    assert passwords.hashed == 0
    await accounts.register_with_invite(world.uows, join("newcomer", code))
    assert passwords.hashed == 1


async def test_a_reset_for_nobody_or_by_a_non_admin_costs_no_hash(world: World) -> None:
    admin = await world.member("gran", admin=True)
    anna = await world.member("anna")
    passwords = CountingPasswords(
        FAST_HASHING["argon2_memory_kib"], FAST_HASHING["argon2_time_cost"]
    )
    world.uows.ctx.passwords = passwords
    body = PasswordResetIn(new_password="new-secret-1")
    with pytest.raises(NotFound):
        await accounts.reset_password(world.uows, admin, uuid.uuid4(), body)
    with pytest.raises(Forbidden):
        await accounts.reset_password(world.uows, anna, admin.id, body)
    assert passwords.hashed == 0
    await accounts.reset_password(world.uows, admin, anna.id, body)
    assert passwords.hashed == 1
