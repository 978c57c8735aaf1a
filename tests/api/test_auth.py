"""Registration, login, token refresh and logout over the real HTTP API."""

from __future__ import annotations

import httpx
import pytest

from inner_circle.sdk import AuthenticationError, BadRequest, ConflictError, PermissionDenied
from tests.support import PASSWORD, Family


async def test_register_with_invitation_then_login(family: Family) -> None:
    client = family.client()
    user = await client.register("anna", "secret-pw", await family.invite(), display_name="Анна")
    assert user.username == "anna"
    assert user.display_name == "Анна"
    assert user.is_admin is False
    pair = await client.login("anna", "secret-pw")
    assert pair.user.id == user.id
    assert pair.expires_in == family.settings.access_token_ttl_seconds
    profile = await client.profile()
    assert profile.id == user.id


async def test_login_answer_has_the_seed_field_names_and_no_secrets(family: Family) -> None:
    await family.member("anna")
    async with httpx.AsyncClient(base_url=family.url) as http:
        response = await http.post("/auth/login", json={"username": "anna", "password": PASSWORD})
    body = response.json()
    assert response.status_code == 200
    assert {"access_token", "refresh_token", "user"} <= body.keys()
    assert set(body["user"]) >= {"id", "username", "isAdmin", "createdAt"}
    text = response.text.lower()
    assert "passwordhash" not in text and "argon2" not in text


async def test_admin_invitation_makes_an_admin(family: Family) -> None:
    admin = await family.member("boss", admin=True)
    assert admin.user is not None and admin.user.is_admin


@pytest.mark.parametrize(
    ("username", "password"),
    [("ab", "secret1"), ("anna", "12345"), ("bad name", "secret1"), ("x" * 33, "secret1")],
)
async def test_registration_validation(family: Family, username: str, password: str) -> None:
    code = await family.invite()
    client = family.client()
    with pytest.raises(BadRequest) as error:
        await client.register(username, password, code)
    assert error.value.status == 400
    assert error.value.code == "VALIDATION_FAILED"
    # nothing was stored: the code still works
    await client.register("valid_name", "secret1", code)


async def test_registration_needs_a_valid_unused_code(family: Family) -> None:
    client = family.client()
    with pytest.raises(BadRequest) as error:
        await client.register("anna", "secret1", "NOPE-NOPE-NOPE")
    assert error.value.code == "INVITE_INVALID"
    code = await family.invite()
    await client.register("anna", "secret1", code)
    with pytest.raises(BadRequest) as error:
        await client.register("boris", "secret1", code)
    assert error.value.code == "INVITE_USED"


async def test_username_taken_case_insensitively(family: Family) -> None:
    await family.member("Anna")
    code = await family.invite()
    with pytest.raises(ConflictError) as error:
        await family.client().register("anna", "secret1", code)
    assert error.value.status == 409
    # the failed attempt did not use the code up
    await family.client().register("anna2", "secret1", code)


async def test_wrong_password_and_unknown_user_look_the_same(family: Family) -> None:
    await family.member("anna")
    client = family.client()
    with pytest.raises(AuthenticationError) as wrong:
        await client.login("anna", "not-the-password")
    with pytest.raises(AuthenticationError) as unknown:
        await client.login("nobody", "not-the-password")
    assert wrong.value.code == unknown.value.code == "INVALID_CREDENTIALS"
    assert wrong.value.message == unknown.value.message


async def test_refresh_rotates_and_old_refresh_token_dies(family: Family) -> None:
    anna = await family.member("anna")
    first_refresh = anna.refresh_token
    await anna.refresh()
    assert anna.refresh_token != first_refresh
    await anna.profile()  # the new access token works
    stale = family.client()
    stale.refresh_token = first_refresh
    with pytest.raises(AuthenticationError):
        await stale.refresh()


async def test_reusing_a_refresh_token_revokes_the_whole_session(family: Family) -> None:
    anna = await family.member("anna")
    stolen = anna.refresh_token
    await anna.refresh()  # the victim rotates
    thief = family.client()
    thief.refresh_token = stolen
    with pytest.raises(AuthenticationError):
        await thief.refresh()
    with pytest.raises(AuthenticationError):
        await anna.refresh()  # the newer token of the same session died too


async def test_logout_revokes_the_refresh_token(family: Family) -> None:
    anna = await family.member("anna")
    token = anna.refresh_token
    await anna.logout()
    again = family.client()
    again.refresh_token = token
    with pytest.raises(AuthenticationError):
        await again.refresh()


async def test_requests_without_or_with_bad_tokens_are_refused(family: Family) -> None:
    async with httpx.AsyncClient(base_url=family.url) as http:
        for headers in ({}, {"Authorization": "Bearer garbage"}, {"Authorization": "Basic xyz"}):
            response = await http.get("/chats", headers=headers)
            assert response.status_code == 401
            assert response.json()["code"] in {"UNAUTHENTICATED", "TOKEN_INVALID"}


async def test_member_changes_own_profile_and_password(family: Family) -> None:
    anna = await family.member("anna")
    updated = await anna.update_profile("Anna K.")
    assert updated.display_name == "Anna K."
    await anna.change_password(PASSWORD, "new-password-1")
    with pytest.raises(AuthenticationError):
        await anna.profile()  # sessions ended with the change
    await anna.login("anna", "new-password-1")
    with pytest.raises(AuthenticationError):
        await family.client().login("anna", PASSWORD)


async def test_change_password_needs_the_current_one(family: Family) -> None:
    anna = await family.member("anna")
    with pytest.raises(BadRequest) as error:
        await anna.change_password("wrong-one", "new-password-1")
    # 400, not 401: a 401 tells clients the session is over (the web client refreshes,
    # retries, and would sign out), while the session is fine.
    assert error.value.status == 400
    assert error.value.code == "WRONG_PASSWORD"
    await anna.profile()  # still signed in
    await anna.login("anna", PASSWORD)  # and the password did not change


async def test_admin_deactivates_and_resets(family: Family) -> None:
    admin = await family.member("boss", admin=True)
    anna = await family.member("anna")
    await admin.reset_password(anna.user_id, "reset-password-1")
    with pytest.raises(AuthenticationError):
        await anna.profile()
    await anna.login("anna", "reset-password-1")
    deactivated = await admin.deactivate(anna.user_id)
    assert deactivated.is_active is False
    with pytest.raises(AuthenticationError):
        await anna.profile()
    with pytest.raises(PermissionDenied) as error:
        await family.client().login("anna", "reset-password-1")
    assert error.value.code == "ACCOUNT_DEACTIVATED"


async def test_members_cannot_do_admin_things(family: Family) -> None:
    anna = await family.member("anna")
    boris = await family.member("boris")
    for attempt in (
        anna.deactivate(boris.user_id),
        anna.reset_password(boris.user_id, "hijacked-1"),
        anna.create_invite(),
        anna.invites(),
    ):
        with pytest.raises(PermissionDenied) as error:
            await attempt
        assert error.value.code == "ADMIN_ONLY"
    await boris.profile()


async def test_member_list_excludes_me_and_hides_hashes(family: Family) -> None:
    anna = await family.member("anna")
    await family.member("boris")
    others = await anna.members()
    assert [m.username for m in others] == ["boris"]
    everyone = await anna.members(include_self=True)
    assert {m.username for m in everyone} == {"anna", "boris"}
    response = await anna.request("GET", "/users")
    assert "passwordHash" not in response.text


async def test_malformed_json_is_a_clear_400(family: Family) -> None:
    async with httpx.AsyncClient(base_url=family.url) as http:
        response = await http.post(
            "/auth/login", content=b"{not json", headers={"Content-Type": "application/json"}
        )
    assert response.status_code == 400
    assert response.json()["code"] == "VALIDATION_FAILED"
