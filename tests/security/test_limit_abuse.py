"""The abuse limits cannot be turned against members (issue 9, items 6-8), on a live server,
on SQLite and PostgreSQL.

Addresses come from ``X-Forwarded-For`` (the test client is the trusted proxy); the
server's clock is a :class:`ManualClock`, so lock-out waits pass without sleeping.
"""

from __future__ import annotations

import httpx
import pytest

from tests.security.conftest import ManualClock, StartServer
from tests.security.test_rate_limits import assert_rate_limited, login
from tests.support import PASSWORD

# Waits are flat 30 s (base = cap), so moving the clock 31 s ends any one lock.
LOCKS = {
    "limit_login_free_attempts": 3,
    "limit_login_address_free_attempts": 3,
    "limit_lockout_base_seconds": 30,
    "limit_lockout_max_seconds": 30,
}
ATTACKER = "203.0.113.50"
ATTACKER_2 = "198.51.100.20"


@pytest.fixture
def server_database_url(database_url: str) -> str:
    return database_url  # every test here runs on SQLite, then on PostgreSQL


async def lock_username(http: httpx.AsyncClient, username: str, address: str) -> None:
    for _ in range(3):
        assert (await login(http, username, "wrong-password", address)).status_code == 401
    assert_rate_limited(await login(http, username, PASSWORD, address))


# --- 6. a username lock cannot keep the member out --------------------------------------


@pytest.mark.parametrize("counters", ["memory", "redis"])
async def test_a_request_refused_by_its_address_does_not_rearm_the_username_lock(
    start_server: StartServer, counters: str, request: pytest.FixtureRequest
) -> None:
    clock = ManualClock()
    shared: dict[str, str] = {}
    if counters == "redis":
        shared = {
            "redis_url": request.getfixturevalue("redis_url"),
            "redis_key_prefix": request.getfixturevalue("redis_prefix"),
        }
    family = await start_server(clock=clock, **LOCKS, **shared)
    await family.member("anna")
    async with httpx.AsyncClient(base_url=family.url) as http:
        await lock_username(http, "anna", ATTACKER_2)  # anna locked for 30 s
        for i in range(3):  # the attacker's own address gets locked too
            assert (await login(http, f"guess{i}", "wrong", ATTACKER)).status_code == 401
        clock.advance(31)  # both locks are over...
        assert (await login(http, "guess3", "wrong", ATTACKER)).status_code == 401
        # ...and the attacker's address is locked again, for 30 s more. Guesses at anna
        # from it are refused by the address, and must not count against her name.
        for _ in range(5):
            assert_rate_limited(await login(http, "anna", "wrong-password", ATTACKER))
        signed_in = await login(http, "anna", PASSWORD, "192.0.2.77")
    assert signed_in.status_code == 200, signed_in.text


async def test_a_known_device_signs_in_while_the_username_is_locked_elsewhere(
    start_server: StartServer,
) -> None:
    family = await start_server(**LOCKS)
    await family.member("anna")
    async with (
        httpx.AsyncClient(base_url=family.url) as phone,
        httpx.AsyncClient(base_url=family.url) as attacker,
        httpx.AsyncClient(base_url=family.url) as new_browser,
    ):
        first = await login(phone, "anna", PASSWORD, "192.0.2.30")
        assert first.status_code == 200
        marker = first.headers["set-cookie"]
        assert marker.startswith("ic_device_")
        assert "HttpOnly" in marker and "SameSite=strict" in marker and "Path=/" in marker

        await lock_username(attacker, "anna", ATTACKER)
        # Somewhere new, with the right password, and no marker: the lock holds.
        assert_rate_limited(await login(new_browser, "anna", PASSWORD, "192.0.2.31"))
        # The phone that signed in before, now on another network: let in.
        assert (await login(phone, "anna", PASSWORD, "192.0.2.32")).status_code == 200

        # A marker does not give unlimited guesses: the device has a counter of its own
        # (each guess from another address, so no address lock is what refuses).
        for i in range(3):
            assert (await login(phone, "anna", "wrong", f"192.0.2.{33 + i}")).status_code == 401
        assert_rate_limited(await login(phone, "anna", PASSWORD, "192.0.2.36"))

        # A tampered marker counts for nothing.
        name, value = next(iter(phone.cookies.items()))
        new_browser.cookies.set(name, value.rsplit(".", 1)[0] + ".AAAA")
        assert_rate_limited(await login(new_browser, "anna", PASSWORD, "192.0.2.37"))


async def test_an_address_that_signed_in_before_is_known_even_without_cookies(
    start_server: StartServer,
) -> None:
    family = await start_server(**LOCKS)
    await family.member("anna")
    home = "192.0.2.40"
    async with httpx.AsyncClient(base_url=family.url) as http:
        assert (await login(http, "anna", PASSWORD, home)).status_code == 200
        http.cookies.clear()  # a client that keeps no cookies (a script, the CLI)
        await lock_username(http, "anna", ATTACKER)
        assert_rate_limited(await login(http, "anna", PASSWORD, "192.0.2.41"))
        assert (await login(http, "anna", PASSWORD, home)).status_code == 200


# --- 7. registration does not tell who is a member ------------------------------------


async def test_a_bad_invitation_code_gets_the_same_answer_whatever_the_username(
    start_server: StartServer,
) -> None:
    family = await start_server()
    await family.member("anna")
    used = await family.invite()
    await family.client().register("first_user", PASSWORD, used)
    async with httpx.AsyncClient(base_url=family.url) as http:

        async def register(name: str, code: str) -> httpx.Response:
            body = {"username": name, "password": PASSWORD, "invitationCode": code}
            return await http.post("/users/register", json=body)

        for code, expected in (("NOPE-NOPE-NOPE", "INVITE_INVALID"), (used, "INVITE_USED")):
            taken = await register("anna", code)
            free = await register("nobody_yet", code)
            assert taken.status_code == free.status_code == 400, taken.text
            assert taken.json() == free.json()
            assert taken.json()["code"] == expected
        # With a usable code the name is checked, and the refused attempt keeps the code.
        code = await family.invite()
        assert (await register("ANNA", code)).status_code == 409
        assert (await register("carl", code)).status_code == 201


# --- 8. the current password is not a free oracle ---------------------------------------


async def test_a_wrong_current_password_answers_400_and_the_session_stays(
    start_server: StartServer,
) -> None:
    family = await start_server()
    anna = await family.member("anna")
    headers = {"Authorization": f"Bearer {anna.access_token}"}
    body = {"currentPassword": "not-it", "newPassword": "new-password-1"}
    async with httpx.AsyncClient(base_url=family.url, headers=headers) as http:
        wrong = await http.post("/users/profile/password", json=body)
    # Not 401: that tells clients the session is over (refresh, retry, sign out).
    assert wrong.status_code == 400, wrong.text
    assert wrong.json()["code"] == "WRONG_PASSWORD"
    assert (await anna.profile()).username == "anna"


async def test_password_change_guesses_are_limited_like_sign_in(
    start_server: StartServer,
) -> None:
    family = await start_server(**LOCKS)
    thief = await family.member("anna")  # a stolen access token, used from elsewhere
    headers = {"Authorization": f"Bearer {thief.access_token}"}

    async def change(current: str, address: str) -> httpx.Response:
        body = {"currentPassword": current, "newPassword": "taken-over-1"}
        async with httpx.AsyncClient(base_url=family.url, headers=headers) as http:
            return await http.post(
                "/users/profile/password", json=body, headers={"X-Forwarded-For": address}
            )

    # Each guess from another address: it is the username's lock that refuses.
    for i in range(3):
        assert (await change(f"guess-{i}", f"198.51.100.{60 + i}")).status_code == 400
    assert_rate_limited(await change(PASSWORD, "198.51.100.63"))  # even the right one waits
    async with httpx.AsyncClient(base_url=family.url) as http:
        # The same per-username lock as sign-in: guesses here lock sign-in elsewhere...
        assert_rate_limited(await login(http, "anna", PASSWORD, "192.0.2.50"))
    # ...and the password did not change; the token still works.
    assert (await thief.profile()).username == "anna"
    await family.client().login("anna", PASSWORD)  # from 127.0.0.1, where anna signed in
