"""Sessions end when they should: refresh-token reuse, logout, password change and reset,
deactivation. Live sockets of an ended session are closed at once (awaited, never slept on)."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from inner_circle.sdk import InnerCircleClient
from inner_circle.sdk.errors import AuthenticationError, PermissionDenied
from tests.support import PASSWORD, Family


def disconnected(client: InnerCircleClient) -> asyncio.Event:
    """An event set when the server closes ``client``'s socket."""
    assert client.sio is not None
    gone = asyncio.Event()
    client.sio.on("disconnect", lambda *_: gone.set())
    return gone


async def refresh_with(family: Family, token: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=family.url) as http:
        return await http.post("/auth/refresh", json={"refresh_token": token})


async def access_with(family: Family, token: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=family.url) as http:
        return await http.get("/users/profile", headers={"Authorization": f"Bearer {token}"})


async def connect_refused(family: Family, token: str) -> bool:
    probe = InnerCircleClient(family.url)
    probe.access_token = token
    try:
        await probe.connect()
    except Exception:  # python-socketio raises its ConnectionError
        return True
    finally:
        await probe.close()
    return False


async def test_refresh_token_reuse_revokes_the_whole_family(family: Family) -> None:
    anna = await family.member("anna")
    first = anna.refresh_token
    assert first is not None
    await anna.refresh()
    second = anna.refresh_token
    assert second is not None and second != first
    reused = await refresh_with(family, first)  # a thief (or the victim) replays the old one
    assert reused.status_code == 401
    assert reused.json()["code"] == "TOKEN_INVALID"
    newer = await refresh_with(family, second)  # ...and the newer one dies with it
    assert newer.status_code == 401
    assert newer.json()["code"] == "TOKEN_INVALID"
    other_device = await family.device(anna, connect=False)  # other sessions live on
    await other_device.refresh()


async def test_logout_ends_the_session(family: Family) -> None:
    anna = await family.member("anna")
    phone = await family.device(anna, connect=False)
    token = anna.refresh_token
    assert token is not None
    await anna.logout()
    assert (await refresh_with(family, token)).status_code == 401
    await phone.refresh()  # only the session that logged out ended


async def test_logout_closes_the_sessions_live_socket(family: Family) -> None:
    anna = await family.member("anna", connect=True)
    gone = disconnected(anna)
    access = anna.access_token
    assert access is not None
    await anna.logout()
    await asyncio.wait_for(gone.wait(), 3)
    assert (await access_with(family, access)).status_code == 401


async def test_password_change_ends_every_session_and_socket(family: Family) -> None:
    anna = await family.member("anna", connect=True)
    tablet = await family.device(anna)
    sockets = [disconnected(anna), disconnected(tablet)]
    old_access, old_refresh = tablet.access_token, tablet.refresh_token
    assert old_access and old_refresh
    await anna.change_password(PASSWORD, "new-password-42")
    await asyncio.wait_for(asyncio.gather(*(s.wait() for s in sockets)), 10)
    assert (await access_with(family, old_access)).status_code == 401
    assert (await refresh_with(family, old_refresh)).status_code == 401
    assert await connect_refused(family, old_access)
    fresh = family.client()
    await fresh.login("anna", "new-password-42")
    await fresh.connect()


async def test_admin_reset_ends_the_members_sessions(family: Family) -> None:
    admin = await family.member("admin", admin=True)
    ben = await family.member("ben", connect=True)
    gone = disconnected(ben)
    old_access, old_refresh = ben.access_token, ben.refresh_token
    assert old_access and old_refresh
    await admin.reset_password(ben.user_id, "reset-by-admin-1")
    await asyncio.wait_for(gone.wait(), 10)
    assert (await access_with(family, old_access)).status_code == 401
    assert (await refresh_with(family, old_refresh)).status_code == 401
    with pytest.raises(AuthenticationError):
        await family.client().login("ben", PASSWORD)
    await family.client().login("ben", "reset-by-admin-1")
    assert admin.sio is None  # the admin's own session is untouched
    await admin.profile()


async def test_deactivation_ends_sessions_and_blocks_login(family: Family) -> None:
    admin = await family.member("admin", admin=True, connect=True)
    ben = await family.member("ben", connect=True)
    gone = disconnected(ben)
    old_access, old_refresh = ben.access_token, ben.refresh_token
    assert old_access and old_refresh
    await admin.deactivate(ben.user_id)
    await asyncio.wait_for(gone.wait(), 10)
    assert (await access_with(family, old_access)).status_code == 401
    refused = await refresh_with(family, old_refresh)
    assert refused.status_code in (401, 403)
    assert await connect_refused(family, old_access)
    with pytest.raises(PermissionDenied) as blocked:
        await family.client().login("ben", PASSWORD)
    assert blocked.value.code == "ACCOUNT_DEACTIVATED"
    assert admin.sio is not None and admin.sio.connected  # others stay connected
    await admin.call("getChats")


async def test_history_and_sync_refuse_an_ended_sessions_token(family: Family) -> None:
    # These two reads check the token in their own unit of work (http/deps.AccessToken).
    anna = await family.member("anna")
    chat_id = (await anna.chats())[0].id
    access = anna.access_token
    assert access is not None
    headers = {"Authorization": f"Bearer {access}"}
    async with httpx.AsyncClient(base_url=family.url, headers=headers) as http:
        assert (await http.get(f"/messages/{chat_id}")).status_code == 200
        assert (await http.get("/sync")).status_code == 200
        await anna.logout()
        for path in (f"/messages/{chat_id}", "/sync"):
            refused = await http.get(path)
            assert refused.status_code == 401, path
            assert refused.json()["code"] == "TOKEN_INVALID", path
