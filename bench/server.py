"""Start Inner Circle server processes for a benchmark and read their CPU and memory.

Every server listens on 127.0.0.1 only. SQLite runs use a fresh data folder;
PostgreSQL runs a fresh database ``bench_<hex>`` that is dropped afterwards.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx

__all__ = ["ProcStats", "ServerGroup", "machine_busy", "proc_tree_stats"]

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
POSTGRES_ADMIN = os.environ.get(
    "INNER_CIRCLE_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("INNER_CIRCLE_BENCH_REDIS", "redis://127.0.0.1:6379/14")
# The console script: `python -m inner_circle.cli.main` trips over a circular import.
INNER_CIRCLE = str(Path(sys.executable).parent / "inner-circle")
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


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


class ServerGroup:
    """One or more ``inner-circle serve`` processes sharing one database (and Redis)."""

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
        self.processes = processes
        self.workers = workers
        self.redis = redis or processes > 1 or workers > 1
        RESULTS.mkdir(parents=True, exist_ok=True)
        self.dir = Path(tempfile.mkdtemp(prefix=f"{label}-", dir=RESULTS))
        self.db_name: str | None = None
        self.env = {
            **os.environ,
            "INNER_CIRCLE_DATA_DIR": str(self.dir / "data"),
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
        }
        self.env.pop("INNER_CIRCLE_DATABASE_URL", None)
        self.env.pop("INNER_CIRCLE_REDIS_URL", None)
        if backend == "postgres":
            self.db_name = f"bench_{uuid.uuid4().hex[:10]}"
            base = POSTGRES_ADMIN.rsplit("/", 1)[0]
            self.env["INNER_CIRCLE_DATABASE_URL"] = f"{base}/{self.db_name}"
        if self.redis:
            self.env["INNER_CIRCLE_REDIS_URL"] = REDIS_URL
        self.env.update(extra_env or {})
        self.nice = nice
        self.ports: list[int] = []
        self.procs: list[subprocess.Popen[bytes]] = []

    @property
    def urls(self) -> list[str]:
        return [f"http://127.0.0.1:{port}" for port in self.ports]

    @property
    def pids(self) -> list[int]:
        return [proc.pid for proc in self.procs]

    @property
    def database_url(self) -> str:
        if self.backend == "postgres":
            return self.env["INNER_CIRCLE_DATABASE_URL"]
        return f"sqlite:///{self.dir / 'data' / 'inner-circle.db'}"

    def cli(self, *args: str) -> str:
        result = subprocess.run(
            [INNER_CIRCLE, *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"inner-circle {' '.join(args)} failed: {result.stderr[-2000:]}")
        return result.stdout.strip()

    def start(self) -> None:
        if self.backend == "postgres":
            asyncio.run(_pg(POSTGRES_ADMIN, f'CREATE DATABASE "{self.db_name}"'))
        if self.redis:
            _flush_redis(REDIS_URL)
        self.cli("migrate")
        for index in range(self.processes):
            port = free_port()
            log = open(self.dir / f"server-{index}.log", "wb")
            args = [INNER_CIRCLE, "serve", "--port", str(port), "--no-migrate"]
            if self.workers > 1:
                args += ["--workers", str(self.workers)]
            self.procs.append(
                subprocess.Popen(args, env=self.env, stdout=log, stderr=subprocess.STDOUT)
            )
            self.ports.append(port)
        for proc, url in zip(self.procs, self.urls, strict=True):
            _wait_healthy(proc, url, self.dir)
        if self.nice:
            renice(self.stats().pids, self.nice)

    def invite(self, uses: int) -> str:
        return self.cli("invite", "create", "--quiet", "--uses", str(uses))

    def renice_database(self, nice: int) -> int:
        """Raise the PostgreSQL backends serving this run's database (a shared, busy machine)."""
        if self.backend != "postgres" or not nice:
            return 0

        async def pids() -> list[int]:
            import asyncpg

            connection = await asyncpg.connect(POSTGRES_ADMIN, timeout=10)
            try:
                # This run's backends, and the server's own WAL writer and checkpointer:
                # a commit waits for the WAL flush whoever does it.
                rows = await connection.fetch(
                    "SELECT pid FROM pg_stat_activity WHERE datname = $1"
                    " OR backend_type IN ('walwriter', 'checkpointer', 'background writer')",
                    self.db_name,
                )
            finally:
                await connection.close()
            return [row["pid"] for row in rows]

        found = asyncio.run(pids())
        renice(found, nice)
        return len(found)

    def stats(self) -> ProcStats:
        return proc_tree_stats(self.pids)

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        if self.backend == "postgres" and self.db_name:
            asyncio.run(
                _pg(POSTGRES_ADMIN, f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)')
            )
        if os.environ.get("INNER_CIRCLE_BENCH_KEEP") != "1":
            shutil.rmtree(self.dir / "data", ignore_errors=True)

    def __enter__(self) -> ServerGroup:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()


def _wait_healthy(proc: subprocess.Popen[bytes], url: str, folder: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            logs = "\n".join(p.read_text()[-3000:] for p in folder.glob("server-*.log"))
            raise RuntimeError(f"server exited early:\n{logs}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)  # polling a condition, bounded by the deadline
    raise RuntimeError(f"{url} did not become healthy in 60 s")


async def _pg(dsn: str, *statements: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(dsn, timeout=10)
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


def _flush_redis(url: str) -> None:
    import redis

    client = redis.Redis.from_url(url)
    try:
        client.flushdb()
    finally:
        client.close()
