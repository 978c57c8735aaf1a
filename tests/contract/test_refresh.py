"""Refresh as the seed's app does it: a JWT it can check with ``JwtDecoder.isExpired``,
rotated on every use, with a short grace for a retry whose answer was lost; seed-era
and forged tokens get a clean 401 (the app then shows its login screen)."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from datetime import timedelta
from typing import Any

import httpx
import jwt
import pytest
import pytest_asyncio
from sqlalchemy import select

from inner_circle.core.clock import utc_now
from inner_circle.server.db.models import RefreshToken
from tests.contract import dart
from tests.contract.app import join
from tests.support import Family, ShiftedClock, StartServer

GRACE = 10


@pytest.fixture
def server_database_url(database_url: str) -> str:
    """``start_server`` on this test's database: SQLite, then PostgreSQL."""
    return database_url


@pytest_asyncio.fixture
async def graced(start_server: StartServer) -> tuple[Family, ShiftedClock]:
    """A live server with the production grace (10 s) and a clock the test can move."""
    clock = ShiftedClock()
    return await start_server(clock=clock, refresh_reuse_grace_seconds=GRACE), clock


async def refresh(family: Family, token: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=family.url) as http:
        return await http.post("/auth/refresh", json={"refresh_token": token})


async def test_a_retried_refresh_within_the_grace_gets_the_same_pair(
    graced: tuple[Family, ShiftedClock],
) -> None:
    family, clock = graced
    phone = await join(family, "anna")
    try:
        first = await refresh(family, phone.refresh_token)
        assert first.status_code == 200
        dart.check_refresh(first.json())
        assert first.json()["refresh_token"] != phone.refresh_token  # rotated
        clock.shift = timedelta(seconds=GRACE - 2)  # the answer was lost; the app retries
        retry = await refresh(family, phone.refresh_token)
        assert retry.status_code == 200
        assert retry.json()["refresh_token"] == first.json()["refresh_token"]
        assert retry.json()["access_token"] == first.json()["access_token"]
        # the pair works, and the session goes on rotating normally
        after = await refresh(family, retry.json()["refresh_token"])
        assert after.status_code == 200
        # the old token once its successor was used: theft, the whole session ends
        replay = await refresh(family, phone.refresh_token)
        assert replay.status_code == 401 and replay.json()["code"] == "TOKEN_INVALID"
        assert (await refresh(family, after.json()["refresh_token"])).status_code == 401
    finally:
        await phone.close()


async def test_reuse_after_the_grace_revokes_the_session(
    graced: tuple[Family, ShiftedClock],
) -> None:
    family, clock = graced
    phone = await join(family, "anna")
    tablet = await join(family, "boris")
    try:
        first = await refresh(family, phone.refresh_token)
        assert first.status_code == 200
        clock.shift = timedelta(seconds=GRACE + 1)
        stolen = await refresh(family, phone.refresh_token)
        assert stolen.status_code == 401 and stolen.json()["code"] == "TOKEN_INVALID"
        assert (await refresh(family, first.json()["refresh_token"])).status_code == 401
        profile = await phone.http.get(
            "/users/profile",
            headers={"Authorization": f"Bearer {first.json()['access_token']}"},
        )
        assert profile.status_code == 401  # its access tokens died with it
        assert (await refresh(family, tablet.refresh_token)).status_code == 200  # others live
    finally:
        await phone.close()
        await tablet.close()


async def test_the_refresh_token_is_a_jwt_around_a_secret_stored_hashed(
    family: Family,
) -> None:
    app = await join(family, "anna")
    try:
        claims = dart.decode_jwt(app.refresh_token)
        assert not dart.is_expired(app.refresh_token)
        secret = claims["rt"]

        async def stored(uow: Any) -> list[str]:
            rows = await uow.session.execute(select(RefreshToken.token_hash))
            return list(rows.scalars())

        hashes = await family.operator(stored)
        assert secret not in hashes and app.refresh_token not in hashes
        assert hashlib.sha256(secret.encode()).hexdigest() in hashes
        answer = await refresh(family, app.refresh_token)
        assert answer.status_code == 200
        dart.check_refresh(answer.json())
        # logout ends it
        logout = await app.post("/auth/logout", {"refresh_token": answer.json()["refresh_token"]})
        assert logout.status_code == 204
        assert (await refresh(family, answer.json()["refresh_token"])).status_code == 401
    finally:
        await app.close()


async def test_seed_era_and_forged_refresh_tokens_get_a_clean_401(family: Family) -> None:
    app = await join(family, "anna")
    try:
        secret = family.settings.secret_key()
        now = int(utc_now().timestamp())
        claims = dart.decode_jwt(app.refresh_token)
        seed_era = jwt.encode(  # what the seed issued: {username, sub}, 30 days
            {"username": "anna", "sub": app.user_id, "iat": now, "exp": now + 30 * 86400},
            secret,
            algorithm="HS256",
        )
        forged = jwt.encode(claims, "not-the-server-key-" * 3, algorithm="HS256")
        other_member = jwt.encode({**claims, "sub": str(uuid.uuid4())}, secret, algorithm="HS256")
        access_as_refresh = app.access_token
        expired = jwt.encode({**claims, "exp": now - 10}, secret, algorithm="HS256")
        for token in (seed_era, forged, other_member, access_as_refresh, expired, "a.b.c", "x"):
            answer = await refresh(family, token)
            assert answer.status_code == 401, (token, answer.text)
            assert answer.json()["code"] == "TOKEN_INVALID"
        # none of them hurt the real session
        assert (await refresh(family, app.refresh_token)).status_code == 200
    finally:
        await app.close()


async def test_a_refresh_token_issued_before_the_upgrade_still_works_once(
    family: Family,
) -> None:
    """Our own earlier servers issued the bare secret; such a session is not logged out by
    the upgrade: its next refresh answers with a JWT."""
    app = await join(family, "anna")
    bare = "pre-upgrade-" + uuid.uuid4().hex

    async def plant(uow: Any) -> None:
        now = utc_now()
        uow.session.add(
            RefreshToken(
                user_id=uuid.UUID(app.user_id),
                token_hash=hashlib.sha256(bare.encode()).hexdigest(),
                family_id=uuid.uuid4(),
                created_at=now,
                expires_at=now + timedelta(days=1),
            )
        )

    try:
        await family.operator(plant)
        answer = await refresh(family, bare)
        assert answer.status_code == 200
        dart.check_refresh(answer.json())
        assert (await refresh(family, answer.json()["refresh_token"])).status_code == 200
    finally:
        await app.close()


async def test_two_refreshes_at_once_get_one_pair(graced: tuple[Family, ShiftedClock]) -> None:
    """The app refreshing from two places at once (a 401 and a start-up check): both are
    answered with the same new pair, and the session lives on."""
    family, _ = graced
    phone = await join(family, "anna")
    try:
        first, second = await asyncio.gather(
            refresh(family, phone.refresh_token), refresh(family, phone.refresh_token)
        )
        assert first.status_code == second.status_code == 200
        assert first.json()["refresh_token"] == second.json()["refresh_token"]
        assert (await refresh(family, first.json()["refresh_token"])).status_code == 200
    finally:
        await phone.close()
