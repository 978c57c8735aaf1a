"""Members and chats for a benchmark, made through the public API (plus one CLI invite).

Registration and login hash passwords; the bench server runs argon2id at the
lowest cost (1 MiB, 1 pass) so that setting up 1,000 members takes seconds.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import aiohttp

from bench.server import ServerGroup

__all__ = ["Member", "Population", "populate", "seed_members"]

PASSWORD = "bench-password-1"


@dataclass(slots=True)
class Member:
    index: int
    username: str
    user_id: str
    token: str


@dataclass
class Population:
    members: list[Member]
    chats: list[tuple[str, list[int]]]  # (chat id, member indexes)


async def _register_and_login(
    http: aiohttp.ClientSession, url: str, code: str, username: str, index: int
) -> Member:
    body = {"username": username, "password": PASSWORD, "invitationCode": code}
    async with http.post(f"{url}/users/register", json=body) as response:
        if response.status != 201:
            raise RuntimeError(f"register {username}: {response.status} {await response.text()}")
    return await login(http, url, username, index)


async def login(http: aiohttp.ClientSession, url: str, username: str, index: int = -1) -> Member:
    body = {"username": username, "password": PASSWORD}
    async with http.post(f"{url}/auth/login", json=body) as response:
        if response.status != 200:
            raise RuntimeError(f"login {username}: {response.status} {await response.text()}")
        data = await response.json()
    return Member(index, username, data["user"]["id"], data["access_token"])


# Registering through the API announces the family chat to every member, and each
# announcement lists every member: the n-th registration costs O(n^2) (see the report).
# Larger populations are written straight into the database, then log in through the API.
API_REGISTRATION_MAX = 30


async def seed_members(servers: ServerGroup, count: int, prefix: str) -> None:
    """``count`` members (in the family chat) inserted through the server's own models."""
    import uuid

    from pwdlib.hashers.argon2 import Argon2Hasher

    from inner_circle.server.bootstrap import operator_uows
    from inner_circle.server.db.models import User
    from inner_circle.server.repositories import chats as chats_repo
    from inner_circle.server.settings import load_settings

    settings = load_settings(
        database_url=servers.database_url,
        data_dir=servers.dir / "data",
        jwt_secret=servers.env["INNER_CIRCLE_JWT_SECRET"],
    )
    hashed = Argon2Hasher(memory_cost=1024, time_cost=1).hash(PASSWORD)
    uows, engine = operator_uows(settings)
    try:
        async with uows.write() as uow:
            family = await chats_repo.family_chat(uow.session)
            assert family is not None, "the server creates the family chat at startup"
            now = uow.ctx.clock.now()
            users = [
                User(
                    id=uuid.uuid4(),
                    username=f"{prefix}{i:05d}",
                    password_hash=hashed,
                    is_admin=False,
                    is_active=True,
                    token_version=0,
                    created_at=now,
                    updated_at=now,
                )
                for i in range(count)
            ]
            uow.session.add_all(users)
            await uow.session.flush()
            await chats_repo.add_participants(
                uow.session,
                family.id,
                [u.id for u in users],
                joined_at=now,
                read_up_to=family.last_seq,
            )
            await uow.commit()
    finally:
        await engine.dispose()  # type: ignore[attr-defined]


async def _bounded(limit: int, jobs: list) -> list:  # type: ignore[type-arg]
    gate = asyncio.Semaphore(limit)

    async def one(job):  # type: ignore[no-untyped-def]
        async with gate:
            return await job

    return list(await asyncio.gather(*(one(job) for job in jobs)))


async def populate(
    servers: ServerGroup,
    members: int,
    chat_size: int,
    *,
    prefix: str = "m",
    family_chat: bool = False,
    seed: bool | None = None,
) -> Population:
    """``members`` accounts; groups of ``chat_size`` consecutive members each get a chat.

    With ``family_chat`` the single family chat is used (``members`` must equal
    ``chat_size``): it holds every member already.
    """
    url = servers.urls[0]
    through_api = members <= API_REGISTRATION_MAX if seed is None else not seed
    if not through_api:
        await seed_members(servers, members, prefix)
    codes = (
        [servers.invite(uses=min(1000, members - start)) for start in range(0, members, 1000)]
        if through_api
        else []
    )
    async with aiohttp.ClientSession() as http:
        jobs = [
            _register_and_login(http, url, codes[i // 1000], f"{prefix}{i:05d}", i)
            if through_api
            else login(http, url, f"{prefix}{i:05d}", i)
            for i in range(members)
        ]
        people = await _bounded(16, jobs)
        chats: list[tuple[str, list[int]]] = []
        if family_chat:
            headers = {"Authorization": f"Bearer {people[0].token}"}
            async with http.get(f"{url}/chats", headers=headers) as response:
                found = await response.json()
            family = next(chat for chat in found if chat["type"] == "family")
            chats.append((family["id"], list(range(members))))
        else:
            groups = [
                list(range(start, start + chat_size)) for start in range(0, members, chat_size)
            ]

            async def create(group: list[int]) -> tuple[str, list[int]]:
                owner = people[group[0]]
                body = {
                    "name": f"bench-{group[0]}",
                    "participantIds": [people[i].user_id for i in group[1:]],
                }
                async with http.post(
                    f"{url}/chats", json=body, headers={"Authorization": f"Bearer {owner.token}"}
                ) as response:
                    if response.status != 201:
                        raise RuntimeError(
                            f"create chat: {response.status} {await response.text()}"
                        )
                    return (await response.json())["id"], group

            chats = await _bounded(8, [create(group) for group in groups])
    return Population(people, chats)
