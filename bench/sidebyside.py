"""Two versions of the server side by side, their requests interleaved: an A/B that the
machine's drift cannot bias.

    python -m bench.sidebyside --a /tmp/old/src --b src [--backend postgres] [PATH ...]

Each version's ``src`` folder (for example ``git archive <rev> src | tar -x -C /tmp/old``)
goes first on its server's ``PYTHONPATH``. Both servers hold one family with a chat of
``--messages`` seeded messages; then, per path (``CHAT`` stands for the chat's id), blocks of
50 sequential requests alternate between the two (A B, B A, ...), and each server's CPU
(all its threads, from ``/proc``) and the requests' wall times are summed per version. On
this two-core machine the speed of the same code moves by a third within minutes; two
servers measured in alternating blocks see the same machine.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import time
from pathlib import Path

from bench.population import populate
from bench.server import ServerGroup
from bench.shapes import _seed

DEFAULT_PATHS = [
    "/users/profile",
    "/messages/CHAT?limit=50",
    "/messages/CHAT?limit=200&after=1000",
]
BLOCK = 50


class Version:
    """One server of the pair, signed in as a member of its family."""

    def __init__(self, group: ServerGroup, messages: int) -> None:
        population = asyncio.run(populate(group, 2, 2, family_chat=True))
        self.chat_id, _ = population.chats[0]
        member = population.members[0]
        asyncio.run(_seed(group, self.chat_id, member.user_id, messages))
        host, port = group.urls[0].removeprefix("http://").split(":")
        self.http = http.client.HTTPConnection(host, int(port))
        self.headers = {"Authorization": f"Bearer {member.token}"}
        self.group = group

    def get(self, path: str) -> float:
        started = time.perf_counter()
        self.http.request("GET", path.replace("CHAT", self.chat_id), headers=self.headers)
        response = self.http.getresponse()
        response.read()
        if response.status != 200:
            raise RuntimeError(f"GET {path}: {response.status}")
        return time.perf_counter() - started


def ab_parser(description: str) -> argparse.ArgumentParser:
    """The arguments every side-by-side bench takes: the two versions and the database."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--a", required=True, type=Path, help="version A's src folder")
    parser.add_argument("--b", required=True, type=Path, help="version B's src folder")
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    return parser


def server_path(src: Path) -> str:
    """A version's ``src`` first on its server's ``PYTHONPATH``, then this checkout."""
    return f"{src.resolve()}:{Path.cwd()}"


def main() -> None:
    parser = ab_parser(__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=20000)
    parser.add_argument("--requests", type=int, default=1000, help="per path and version")
    parser.add_argument("paths", nargs="*", default=DEFAULT_PATHS)
    args = parser.parse_args()
    groups = {}
    try:
        for name, src in (("A", args.a), ("B", args.b)):
            group = ServerGroup(
                args.backend, label=f"ab-{name}", extra_env={"PYTHONPATH": server_path(src)}
            )
            group.__enter__()
            groups[name] = group
        versions = {name: Version(group, args.messages) for name, group in groups.items()}
        for path in args.paths:
            for version in versions.values():
                for _ in range(30):  # warm-up: connections, statement caches
                    version.get(path)
            walls: dict[str, list[float]] = {"A": [], "B": []}
            cpu = {"A": 0.0, "B": 0.0}
            for block in range(max(1, args.requests // BLOCK)):
                for name in ("A", "B") if block % 2 == 0 else ("B", "A"):
                    version = versions[name]
                    before = version.group.stats().cpu_seconds  # all threads, from /proc
                    walls[name].extend(version.get(path) for _ in range(BLOCK))
                    cpu[name] += version.group.stats().cpu_seconds - before
            shown = []
            for name in ("A", "B"):
                ordered = sorted(walls[name])
                shown.append(
                    f"{name}: server CPU {1000 * cpu[name] / len(ordered):.2f} ms,"
                    f" wall p50 {1000 * ordered[len(ordered) // 2]:.2f}"
                    f" p99 {1000 * ordered[int(len(ordered) * 0.99)]:.2f} ms"
                )
            print(f"{path}: " + " | ".join(shown), flush=True)
    finally:
        for group in groups.values():
            group.__exit__(None, None, None)


if __name__ == "__main__":
    main()
