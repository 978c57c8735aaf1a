"""Start Inner Circle server processes for a benchmark and read their CPU and memory.

The processes are the top-level ``harness`` package's (the tests start theirs the same
way); this module adds the benchmark's settings and the /proc readings. Every server
listens on 127.0.0.1 only. SQLite runs use a fresh data folder; PostgreSQL runs a fresh
database ``bench_<hex>`` that is dropped afterwards.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import harness

__all__ = ["ProcStats", "ServerGroup", "machine_busy", "proc_tree_stats"]

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
POSTGRES_ADMIN = os.environ.get(
    "INNER_CIRCLE_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("INNER_CIRCLE_BENCH_REDIS", "redis://127.0.0.1:6379/14")
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


# --- /proc readings -------------------------------------------------------------------------


@dataclass
class ProcStats:
    cpu_seconds: float
    rss_bytes: int
    pids: list[int] = field(default_factory=list)


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                stat = handle.read()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        tree.setdefault(ppid, []).append(int(entry))
    return tree


def proc_tree_stats(root_pids: list[int]) -> ProcStats:
    """CPU seconds (user+system) and RSS of the processes and all their descendants."""
    tree = _children()
    todo = list(root_pids)
    seen: list[int] = []
    while todo:
        pid = todo.pop()
        seen.append(pid)
        todo.extend(tree.get(pid, []))
    cpu = 0.0
    rss = 0
    for pid in seen:
        try:
            with open(f"/proc/{pid}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{pid}/statm") as handle:
                rss += int(handle.read().split()[1]) * PAGE
        except OSError:
            continue
        cpu += (int(fields[11]) + int(fields[12])) / CLK_TCK
    return ProcStats(cpu, rss, seen)


def postgres_pids() -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/comm") as handle:
                    if handle.read().strip() in {"postgres", "postmaster"}:
                        pids.append(int(entry))
            except OSError:
                continue
    return pids


def machine_busy() -> tuple[float, float]:
    """(busy jiffies, total jiffies) of the whole machine, for a load figure."""
    with open("/proc/stat") as handle:
        parts = [int(x) for x in handle.readline().split()[1:]]
    idle = parts[3] + parts[4]
    total = sum(parts[:8])
    return float(total - idle), float(total)


def renice(pids: list[int], nice: int) -> None:
    """Set the priority of every thread of ``pids`` (Linux schedules threads one by one)."""
    for pid in pids:
        try:
            tids = [int(t) for t in os.listdir(f"/proc/{pid}/task")]
        except OSError:
            continue
        for tid in tids:
            try:
                os.setpriority(os.PRIO_PROCESS, tid, nice)
            except OSError:
                pass


# --- the server group -------------------------------------------------------------------------


class ServerGroup(harness.ServerGroup):
    """The harness's server group with the benchmark's settings, CPU and memory readings.

    ``backend`` is ``sqlite`` (a fresh data folder under ``bench/results``) or
    ``postgres`` (a fresh database ``bench_<hex>``, dropped afterwards); more than one
    process or worker brings Redis (a key prefix of the run's own, deleted afterwards).
    """

    def __init__(
        self,
        backend: str,
        *,
        processes: int = 1,
        workers: int = 1,
        redis: bool = False,
        extra_env: dict[str, str] | None = None,
        label: str = "run",
        nice: int = 0,
    ) -> None:
        assert backend in {"sqlite", "postgres"}
        self.backend = backend
        RESULTS.mkdir(parents=True, exist_ok=True)
        self.dir = Path(tempfile.mkdtemp(prefix=f"{label}-", dir=RESULTS))
        self.nice = nice
        uses_redis = redis or processes > 1 or workers > 1
        env = {
            "INNER_CIRCLE_JWT_SECRET": secrets.token_urlsafe(48),
            "INNER_CIRCLE_ARGON2_MEMORY_KIB": "1024",
            "INNER_CIRCLE_ARGON2_TIME_COST": "1",
            "INNER_CIRCLE_ACCESS_TOKEN_TTL_SECONDS": str(24 * 3600),
            "INNER_CIRCLE_LOG_LEVEL": "WARNING",
            # The bench measures the message path, not the abuse limits (which would refuse
            # 20 messages/s from one member, as they should).
            "INNER_CIRCLE_RATE_LIMITS_ENABLED": "false",
            # The idle run holds 10,000 connections on one process; a family server's
            # default (2048) would answer most of them 503.
            "INNER_CIRCLE_LIMIT_CONCURRENCY": "100000",
            # The idle shape opens up to 100 sockets per member (the default cap is 20).
            "INNER_CIRCLE_SOCKET_MAX_PER_MEMBER": "0",
            **(extra_env or {}),
        }
        super().__init__(
            self.dir,
            data_dir=self.dir / "data",
            database=backend,
            postgres=harness.Postgres(POSTGRES_ADMIN) if backend == "postgres" else None,
            redis=REDIS_URL if uses_redis else None,
            processes=processes,
            workers=workers,
            env=env,
            migrate_first=True,
            label=f"bench_{label}".replace("-", "_"),
        )

    def start(self, timeout: float = 60) -> None:
        super().start(timeout)
        if self.nice:
            renice(self.stats().pids, self.nice)

    def renice_database(self, nice: int) -> int:
        """Raise the PostgreSQL backends serving this run's database (a shared, busy machine)."""
        if self.backend != "postgres" or not nice:
            return 0
        db_name = self.database_url.rpartition("/")[2]

        async def pids() -> list[int]:
            import asyncpg

            connection = await asyncpg.connect(POSTGRES_ADMIN, timeout=10)
            try:
                # This run's backends, and the server's own WAL writer and checkpointer:
                # a commit waits for the WAL flush whoever does it.
                rows = await connection.fetch(
                    "SELECT pid FROM pg_stat_activity WHERE datname = $1"
                    " OR backend_type IN ('walwriter', 'checkpointer', 'background writer')",
                    db_name,
                )
            finally:
                await connection.close()
            return [row["pid"] for row in rows]

        found = asyncio.run(pids())
        renice(found, nice)
        return len(found)

    def stats(self) -> ProcStats:
        return proc_tree_stats(self.pids)

    def close(self, *, keep_data: bool = False) -> None:
        super().close(keep_data=keep_data or os.environ.get("INNER_CIRCLE_BENCH_KEEP") == "1")
