"""Two versions of the server side by side, their socket sends interleaved: the send path's
A/B, as ``bench.sidebyside`` is the HTTP routes'.

    python -m bench.sendsbyside --a /tmp/old/src --b src [--backend postgres]

Each version's ``src`` folder goes first on its server's ``PYTHONPATH``. Both servers hold
one family of ``--members`` members, each connected over Socket.IO (the SDK's client); then
blocks of ``--per-block`` messages, sent one at a time (each waits for its ack, so every
batch holds one message) by the members in turn, alternate between the two (A B, B A, ...).
Each server's CPU (all its threads, from ``/proc``) is summed per version and divided by
the messages it stored: the CPU of one message, its ten deliveries and its ack. The clients
run in this process, on the other core when the servers are pinned (``--pin``).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
import uuid
from dataclasses import dataclass, field

from bench.population import PASSWORD, populate
from bench.server import ServerGroup
from bench.sidebyside import ab_parser, server_path
from inner_circle.sdk import InnerCircleClient


@dataclass
class Version:
    name: str
    group: ServerGroup
    chat_id: uuid.UUID
    clients: list[InnerCircleClient]
    cpu: float = 0.0
    sent: int = 0
    acks: list[float] = field(default_factory=list)


async def _start(name: str, path: str, backend: str, members: int, pin: bool) -> Version:
    group = ServerGroup(backend, label=f"sends-{name}", extra_env={"PYTHONPATH": path})
    group.__enter__()
    if pin:
        for pid in group.stats().pids:
            os.sched_setaffinity(pid, {0})
    population = await populate(group, members, members, family_chat=True)
    chat_id, _ = population.chats[0]
    clients = []
    for member in population.members:
        client = InnerCircleClient(group.urls[0])
        await client.login(member.username, PASSWORD)
        await client.connect()
        clients.append(client)
    return Version(name, group, uuid.UUID(chat_id), clients)


async def _block(version: Version, count: int, tag: str) -> None:
    before = version.group.stats().cpu_seconds
    for i in range(count):
        started = time.perf_counter()
        await version.clients[i % len(version.clients)].send_message(version.chat_id, f"{tag} {i}")
        version.acks.append(time.perf_counter() - started)
    version.cpu += version.group.stats().cpu_seconds - before
    version.sent += count


async def run(args: argparse.Namespace, paths: dict[str, str]) -> None:
    if args.pin:
        os.sched_setaffinity(0, {1})
    versions: list[Version] = []
    try:
        for name, path in paths.items():
            versions.append(await _start(name, path, args.backend, args.members, args.pin))
        for version in versions:  # warm-up: connections, statement caches
            await _block(version, 50, "warm-up")
            version.cpu, version.sent, version.acks = 0.0, 0, []
        for block in range(args.blocks):
            for version in versions if block % 2 == 0 else versions[::-1]:
                await _block(version, args.per_block, f"block {block}")
        for version in versions:
            acks = sorted(version.acks)
            print(
                f"{version.name}: server CPU {1000 * version.cpu / version.sent:.3f} ms per"
                f" message ({version.sent} sent), ack p50 {1000 * acks[len(acks) // 2]:.2f}"
                f" p99 {1000 * acks[int(len(acks) * 0.99)]:.2f} ms",
                flush=True,
            )
    finally:
        for version in versions:
            for client in version.clients:
                await client.close()
            version.group.__exit__(None, None, None)


def main() -> None:
    parser = ab_parser(__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=10)
    parser.add_argument("--blocks", type=int, default=10)
    parser.add_argument("--per-block", type=int, default=300)
    parser.add_argument(
        "--pin", action="store_true", help="servers on CPU 0, this process (the clients) on CPU 1"
    )
    args = parser.parse_args()
    paths = {"A": server_path(args.a), "B": server_path(args.b)}
    asyncio.run(run(args, paths))


if __name__ == "__main__":
    main()
