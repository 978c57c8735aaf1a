"""Joining a big family: registering the n-th member, and a member's first connect.

``python -m bench join --members 1000``: a family of ``members - samples`` is written
straight into the database (as the other shapes seed large families), ``online`` of them
connect, and then ``samples`` newcomers, one after the other, register through
``POST /users/register`` (the announcement of the family chat reaches every online
member) and open their first Socket.IO connection (presence to the whole family).

Reported per step: the wall time the client saw and the server's CPU time, which counts
the password hash (argon2 at the bench's lowest cost, about 1 ms).
"""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any

import aiohttp
import socketio

from bench.load import Generator, GeneratorSpec
from bench.population import PASSWORD, login, seed_members
from bench.report import append_row, emit, git_commit, percentiles, today
from bench.server import ServerGroup, proc_tree_stats

__all__ = ["join"]

JOIN_COLUMNS = [
    "date",
    "commit",
    "backend",
    "family",
    "online",
    "step",
    "n",
    "wall p50",
    "wall max",
    "CPU p50",
    "CPU max",
    "note",
]


def process_cpu_seconds(pids: list[int]) -> float:
    """CPU time of every thread of ``pids`` in nanosecond resolution (``schedstat``; the
    ``stat`` jiffies are 10 ms, as long as a whole step)."""
    total = 0
    for pid in pids:
        try:
            tids = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for tid in tids:
            try:
                with open(f"/proc/{pid}/task/{tid}/schedstat") as handle:
                    total += int(handle.read().split()[0])
            except OSError:
                continue  # a thread that ended meanwhile
    return total / 1e9


async def _newcomers(servers: ServerGroup, code: str, samples: int) -> dict[str, list[int]]:
    """Register and connect ``samples`` newcomers one by one; wall and CPU µs per step."""
    url = servers.urls[0]
    pids = servers.pids
    found: dict[str, list[int]] = {"register wall": [], "register CPU": []}
    found |= {"connect wall": [], "connect CPU": []}
    sockets: list[socketio.AsyncClient] = []

    def cpu() -> float:
        return process_cpu_seconds(proc_tree_stats(pids).pids)

    def took(step: str, wall0: int, cpu0: float) -> None:
        found[f"{step} wall"].append((time.monotonic_ns() - wall0) // 1000)
        found[f"{step} CPU"].append(int((cpu() - cpu0) * 1e6))

    try:
        async with aiohttp.ClientSession() as http:
            for i in range(samples):
                body = {
                    "username": f"newcomer{i:04d}",
                    "password": PASSWORD,
                    "invitationCode": code,
                }
                cpu0, wall0 = cpu(), time.monotonic_ns()
                async with http.post(f"{url}/users/register", json=body) as response:
                    if response.status != 201:
                        raise RuntimeError(f"register: {response.status} {await response.text()}")
                took("register", wall0, cpu0)
                member = await login(http, url, body["username"])
                sio = socketio.AsyncClient(reconnection=False)
                cpu0, wall0 = cpu(), time.monotonic_ns()
                await sio.connect(url, auth={"token": member.token}, transports=["websocket"])
                took("connect", wall0, cpu0)
                sockets.append(sio)
    finally:
        for sio in sockets:
            await sio.disconnect()
    return found


def join(
    backend: str, members: int, samples: int, online: int, note: str = ""
) -> list[dict[str, Any]]:
    assert 0 < samples < members and online <= members - samples
    servers = ServerGroup(backend, label="join")
    rows = []
    with servers:
        asyncio.run(seed_members(servers, members - samples, "m"))
        generator = None
        if online:

            async def tokens() -> list[tuple[str, int]]:
                async with aiohttp.ClientSession() as http:
                    people = [
                        await login(http, servers.urls[0], f"m{i:05d}") for i in range(online)
                    ]
                return [(person.token, 0) for person in people]

            spec = GeneratorSpec(servers.urls, asyncio.run(tokens()), [], connect_concurrency=10)
            generator = Generator([spec])
        try:
            if generator is not None:
                generator.wait_ready(timeout=600)
            found = asyncio.run(_newcomers(servers, servers.invite(uses=samples), samples))
        finally:
            if generator is not None:
                generator.close()
    stamp = {"commit": git_commit(), "date": today(), "note": note}
    for step in ("register", "connect"):
        wall, cpu = percentiles(found[f"{step} wall"]), percentiles(found[f"{step} CPU"])
        row = {"backend": backend, "family": members, "online": online, "step": step}
        row |= {"n": samples, "wall p50": wall["p50"], "wall max": wall["max"]}
        row |= {"CPU p50": cpu["p50"], "CPU max": cpu["max"], **stamp}
        emit({"shape": "join", **row, "wall_ms": wall, "cpu_ms": cpu})
        append_row("join", JOIN_COLUMNS, row)
        rows.append(row)
    return rows
