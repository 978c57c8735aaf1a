"""A live socket obeys every revocation (issue 9, items 1-5; ADR 10).

Black-box: a real server (in a thread, or two `inner-circle serve` processes with Redis),
real Socket.IO clients (the SDK), and the operator's real CLI in a subprocess. Nothing
sleeps: each test waits for the server to close the socket, with a timeout.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

import harness
from harness import ServerGroup
from inner_circle.sdk import InnerCircleClient
from inner_circle.sdk.errors import PermissionDenied
from inner_circle.server.socket import granted
from tests.conftest import StartProcess
from tests.support import FAST_HASHING, PASSWORD, Family, StartServer

CLOSE_WITHIN = 8.0  # seconds; the sweep runs every second, hints act at once


def closed(client: InnerCircleClient) -> asyncio.Event:
    """Set when the server closes ``client``'s current socket."""
    assert client.sio is not None
    gone = asyncio.Event()
    client.sio.on("disconnect", lambda *_: gone.set())
    return gone


async def session_error(client: InnerCircleClient) -> dict[str, Any]:
    """The ``error`` the server sends right before it closes a socket whose grant ended."""
    found: dict[str, Any] = await client.inbox.wait_for(
        "error", lambda e: e.get("event") == "session", timeout=CLOSE_WITHIN
    )
    return found


def cli_env(settings: Any, data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("INNER_CIRCLE_")}
    env.update(
        {
            "INNER_CIRCLE_DATABASE_URL": str(settings.database_url),
            "INNER_CIRCLE_DATA_DIR": str(data_dir),
            "INNER_CIRCLE_JWT_SECRET": str(settings.jwt_secret),
            "INNER_CIRCLE_ARGON2_MEMORY_KIB": str(FAST_HASHING["argon2_memory_kib"]),
            "INNER_CIRCLE_ARGON2_TIME_COST": str(FAST_HASHING["argon2_time_cost"]),
            **extra,
        }
    )
    return env


async def run_cli(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    """The operator's `inner-circle` command, as a separate process, while the server runs."""
    result = await asyncio.to_thread(harness.cli, env, *args, input=stdin, check=True)
    return result.stdout


# --- item 1: the operator's CLI, one server process without Redis (the sweep) ------------


async def test_cli_deactivate_closes_the_members_live_sockets(
    family: Family, tmp_path: Path
) -> None:
    ben = await family.member("ben", connect=True)
    tablet = await family.device(ben)
    anna = await family.member("anna", connect=True)
    sockets = [closed(ben), closed(tablet)]

    await run_cli(cli_env(family.settings, tmp_path), "user", "deactivate", "ben")

    await asyncio.wait_for(asyncio.gather(*(s.wait() for s in sockets)), CLOSE_WITHIN)
    assert (await session_error(ben))["code"] == "TOKEN_INVALID"
    assert (await session_error(tablet))["code"] == "TOKEN_INVALID"
    assert anna.sio is not None and anna.sio.connected  # others stay
    assert (await anna.call("getChats"))["ok"]


async def test_cli_reset_password_closes_the_members_live_sockets(
    family: Family, tmp_path: Path
) -> None:
    ben = await family.member("ben", connect=True)
    gone = closed(ben)

    await run_cli(
        cli_env(family.settings, tmp_path),
        "user",
        "reset-password",
        "ben",
        "--password-stdin",
        stdin="a-new-password-1\n",
    )

    await asyncio.wait_for(gone.wait(), CLOSE_WITHIN)
    assert (await session_error(ben))["code"] == "TOKEN_INVALID"
    assert ben.sio is None or not ben.sio.connected  # the SDK's refresh failed: stays closed


async def test_the_sweep_reaches_connections_beyond_its_first_chunk(
    family: Family, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sweep reads grants a chunk at a time (one read for every connection held the
    loop for 20 ms and more with 1,000 of them): every chunk is still checked."""
    monkeypatch.setattr(granted, "SWEEP_CHUNK", 1)
    anna = await family.member("anna", connect=True)
    carl = await family.member("carl", connect=True)
    ben = await family.member("ben", connect=True)
    tablet = await family.device(ben)
    sockets = [closed(ben), closed(tablet)]

    await run_cli(cli_env(family.settings, tmp_path), "user", "deactivate", "ben")

    await asyncio.wait_for(asyncio.gather(*(s.wait() for s in sockets)), CLOSE_WITHIN)
    assert (await session_error(tablet))["code"] == "TOKEN_INVALID"
    for other in (anna, carl):
        assert other.sio is not None and other.sio.connected
        assert (await other.call("getChats"))["ok"]


# --- item 3: admin rights are read fresh -------------------------------------------------


async def test_revoked_admin_socket_can_no_longer_delete_others_messages(
    family: Family, tmp_path: Path
) -> None:
    admin = await family.member("admin", admin=True, connect=True)
    ben = await family.member("ben")
    chat = await ben.family_chat()
    first = await ben.post_message(chat.id, "one")
    second = await ben.post_message(chat.id, "two")
    # While an admin, the socket may delete anyone's message (the family's moderator).
    await admin.call("deleteMessage", {"chatId": str(chat.id), "messageId": str(first.id)})

    await run_cli(cli_env(family.settings, tmp_path), "user", "set-admin", "admin", "--revoke")

    with pytest.raises(PermissionDenied) as refused:
        await admin.call("deleteMessage", {"chatId": str(chat.id), "messageId": str(second.id)})
    assert refused.value.code == "FORBIDDEN"
    assert [m.content for m in await ben.history(chat.id)][-1] == "two"
    assert admin.sio is not None and admin.sio.connected  # still a member: only the right went


# --- item 2: refresh-token reuse (theft) ---------------------------------------------------


async def test_refresh_token_reuse_closes_that_sessions_sockets(family: Family) -> None:
    anna = await family.member("anna", connect=True)
    phone = await family.device(anna)  # another session of hers: untouched
    gone = closed(anna)
    stolen = anna.refresh_token
    await anna.refresh()  # the thief (or the victim) rotated it ...
    thief = family.client()
    thief.refresh_token = stolen
    with pytest.raises(Exception):  # noqa: B017 - ... and the other one replays it
        await thief.refresh()

    await asyncio.wait_for(gone.wait(), CLOSE_WITHIN)
    assert (await session_error(anna))["code"] == "TOKEN_INVALID"
    assert phone.sio is not None and phone.sio.connected
    assert (await phone.call("getChats"))["ok"]


# --- item 4: connecting while a revocation commits --------------------------------------


async def connect_raw(url: str, token: str) -> asyncio.Event | None:
    """A bare python-socketio client; returns an event set when the server closes it, or
    None when the connection was refused."""
    import socketio

    client = socketio.AsyncClient(reconnection=False)
    gone = asyncio.Event()
    client.on("disconnect", lambda *_: gone.set())
    try:
        await client.connect(url, auth={"token": token}, transports=["websocket"], wait_timeout=10)
    except socketio.exceptions.ConnectionError:
        return None
    _keep.append(client)
    return gone


_keep: list[Any] = []  # clients stay referenced until the test ends


async def no_socket_survives(connect_url: str, rounds: int, member: Any, revoke: Any) -> None:
    """For each round: a fresh member opens several sockets while being revoked; every
    socket that got through must be closed by the server."""
    for _ in range(rounds):
        victim, admin_call = await member()
        token = victim.access_token
        attempts = [asyncio.create_task(connect_raw(connect_url, token)) for _ in range(4)]
        await revoke(admin_call, victim)
        for gone in await asyncio.gather(*attempts):
            if gone is not None:
                await asyncio.wait_for(gone.wait(), CLOSE_WITHIN)
        await victim.close()
    for client in _keep:
        await client.disconnect()
    _keep.clear()


async def test_sockets_connecting_during_a_deactivation_are_closed(family: Family) -> None:
    admin = await family.member("admin", admin=True)

    async def member() -> tuple[InnerCircleClient, InnerCircleClient]:
        return await family.member(), admin

    async def revoke(by: InnerCircleClient, victim: InnerCircleClient) -> None:
        await by.deactivate(victim.user_id)

    await no_socket_survives(family.url, 10, member, revoke)


# --- token expiry and reauth -------------------------------------------------------------


@pytest.fixture
def server_database_url(database_url: str) -> str:
    """``start_server`` on this test's database: SQLite, then PostgreSQL."""
    return database_url


@pytest_asyncio.fixture
async def short_lived(start_server: StartServer) -> Family:
    """A live server whose access tokens live 4 seconds."""
    return await start_server(access_token_ttl_seconds=4)


async def test_socket_closes_when_its_token_expires(short_lived: Family) -> None:
    anna = await short_lived.member("anna")
    await anna.connect(renew=False, reconnect=False)
    gone = closed(anna)
    assert (await anna.call("getChats"))["ok"]

    await asyncio.wait_for(gone.wait(), CLOSE_WITHIN)
    error = await session_error(anna)
    assert error["code"] == "TOKEN_INVALID" and "expired" in error["message"]


async def test_sdk_keeps_its_socket_by_renewing_and_reopens_after_expiry(
    short_lived: Family,
) -> None:
    renewing = await short_lived.member("anna")
    await renewing.connect()  # renews with reauth before the token expires
    lapsing = await short_lived.member("ben")
    await lapsing.connect(renew=False)  # lets it expire, then reopens with a refresh
    first = lapsing.sio
    probe = await short_lived.member("carl")
    await probe.connect(renew=False, reconnect=False)
    probe_gone = closed(probe)

    await lapsing.inbox.wait_for("reconnected", timeout=CLOSE_WITHIN * 2)
    assert lapsing.sio is not None and lapsing.sio is not first and lapsing.sio.connected
    assert (await lapsing.call("getChats"))["ok"]
    # By the time a non-renewing socket has been closed, the renewing one's first token
    # has expired too, yet its connection is the same and it works.
    await asyncio.wait_for(probe_gone.wait(), CLOSE_WITHIN)
    assert renewing.sio is not None and renewing.sio.connected
    assert not renewing.inbox.all("reconnected")
    assert (await renewing.call("getChats"))["ok"]


async def test_reauth_refuses_another_members_token(family: Family) -> None:
    anna = await family.member("anna", connect=True)
    ben = await family.member("ben")
    with pytest.raises(PermissionDenied):
        await anna.call("reauth", {"token": ben.access_token})
    assert (await anna.call("getChats"))["ok"]  # the old grant still holds


# --- items 1, 4, 5: two server processes, one PostgreSQL, one Redis ----------------------


@pytest.fixture
def slow_sweep_cluster(start_process: StartProcess) -> ServerGroup:
    """Two `inner-circle serve` processes whose own sweep waits 60 s: a socket closed within
    seconds was closed by a hint crossing processes through Redis."""
    return start_process(
        database="postgres",
        redis=True,
        processes=2,
        env={"INNER_CIRCLE_SOCKET_REVALIDATE_SECONDS": "60", "INNER_CIRCLE_LOG_LEVEL": "WARNING"},
    )


async def cluster_member(
    cluster: ServerGroup, url: str, name: str, *, admin: bool = False
) -> InnerCircleClient:
    args = ["invite", "create", "--quiet"] + (["--admin"] if admin else [])
    code = (await run_cli(cluster.env, *args)).strip()
    client = InnerCircleClient(url)
    await client.register(name, PASSWORD, code)
    await client.login(name, PASSWORD)
    return client


async def same_session_on(url: str, of: InnerCircleClient) -> InnerCircleClient:
    """A connection to another process with the same session's tokens (one app, two tabs)."""
    other = InnerCircleClient(url)
    other.access_token, other.refresh_token, other.user = (
        of.access_token,
        of.refresh_token,
        of.user,
    )
    await other.connect(reconnect=False)
    return other


async def test_logout_closes_the_session_on_every_process(slow_sweep_cluster: ServerGroup) -> None:
    a, b = slow_sweep_cluster.servers
    anna = await cluster_member(slow_sweep_cluster, a.url, "anna")
    phone = await cluster_member(slow_sweep_cluster, b.url, "anna2")
    try:
        await anna.connect(reconnect=False)
        on_b = await same_session_on(b.url, anna)
        await phone.connect()
        sockets = [closed(anna), closed(on_b)]

        await anna.logout()  # served by process A

        await asyncio.wait_for(asyncio.gather(*(s.wait() for s in sockets)), CLOSE_WITHIN)
        assert (await session_error(on_b))["code"] == "TOKEN_INVALID"
        assert phone.sio is not None and phone.sio.connected
        assert (await phone.call("getChats"))["ok"]
        await on_b.close()
    finally:
        await anna.close()
        await phone.close()


async def test_cli_revocations_close_sockets_on_every_process(
    slow_sweep_cluster: ServerGroup,
) -> None:
    a, b = slow_sweep_cluster.servers
    ben = await cluster_member(slow_sweep_cluster, a.url, "ben")
    carl = await cluster_member(slow_sweep_cluster, b.url, "carl")
    try:
        await ben.connect(reconnect=False)
        ben_on_b = await same_session_on(b.url, ben)
        await carl.connect(reconnect=False)
        carl_on_a = await same_session_on(a.url, carl)
        bens = [closed(ben), closed(ben_on_b)]
        carls = [closed(carl), closed(carl_on_a)]

        await run_cli(slow_sweep_cluster.env, "user", "deactivate", "ben")
        await asyncio.wait_for(asyncio.gather(*(s.wait() for s in bens)), CLOSE_WITHIN)
        assert (await session_error(ben_on_b))["code"] == "TOKEN_INVALID"

        await run_cli(
            slow_sweep_cluster.env,
            "user",
            "reset-password",
            "carl",
            "--password-stdin",
            stdin="a-new-password-1\n",
        )
        await asyncio.wait_for(asyncio.gather(*(s.wait() for s in carls)), CLOSE_WITHIN)
        assert (await session_error(carl))["code"] == "TOKEN_INVALID"
        await ben_on_b.close()
        await carl_on_a.close()
    finally:
        await ben.close()
        await carl.close()


async def test_sockets_connecting_on_one_process_while_another_deactivates(
    slow_sweep_cluster: ServerGroup,
) -> None:
    a, b = slow_sweep_cluster.servers
    admin = await cluster_member(slow_sweep_cluster, a.url, "admin", admin=True)
    made = 0

    async def member() -> tuple[InnerCircleClient, InnerCircleClient]:
        nonlocal made
        made += 1
        return await cluster_member(slow_sweep_cluster, b.url, f"victim{made}"), admin

    async def revoke(by: InnerCircleClient, victim: InnerCircleClient) -> None:
        await by.deactivate(victim.user_id)  # served by A; the sockets connect to B

    try:
        await no_socket_survives(b.url, 8, member, revoke)
    finally:
        await admin.close()
