"""Processes the delivery tests break on purpose: the server, and a private PostgreSQL.

Used by the pytest fixtures (``tests/delivery/conftest.py``) and by the soak run
(``tests/delivery/soak.py``), so both drive exactly the same machinery:

- :class:`ServerProcess`: ``inner-circle serve`` in a subprocess on a fixed port, that
  can be killed with SIGKILL and started again on the same port and database.
- :class:`PrivatePostgres`: a throwaway PostgreSQL cluster (Debian's ``initdb`` and
  ``pg_ctl``) on a free port, so a test can stop the database under a live server
  without touching the machine's shared one.

Everything listens on 127.0.0.1 only.
"""

from __future__ import annotations

import asyncio
import glob
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx

from tests.support import FAST_HASHING, POSTGRES_URL, free_port, make_settings

__all__ = [
    "PrivatePostgres",
    "ServerProcess",
    "create_database",
    "drop_database",
    "shared_postgres_reachable",
    "wait_until",
]

JWT_SECRET = "delivery-tests-" + "s" * 40


async def wait_until(
    condition: Callable[[], Awaitable[bool]] | Callable[[], bool],
    *,
    timeout: float,
    interval: float = 0.05,
    what: str = "condition",
) -> None:
    """Poll ``condition`` until it is true; TimeoutError after ``timeout`` seconds.

    For states that announce themselves with no event (a port answering, a process
    gone); everything that has an event is awaited on the event instead.
    """
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if not isinstance(result, bool):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not reached within {timeout} s")
        await asyncio.sleep(interval)  # polling a condition, bounded by the deadline


# --- databases ----------------------------------------------------------------------------


def _asyncpg_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


def _with_database(url: str, name: str) -> str:
    base, _, _ = url.rpartition("/")
    return f"{base}/{name}"


async def _admin(url: str, *statements: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(_asyncpg_dsn(url), timeout=5)
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


async def create_database(admin_url: str, *, template: str | None = None) -> str:
    """A new empty (or template-copied) database on the cluster of ``admin_url``; its URL."""
    name = f"ic_delivery_{uuid.uuid4().hex[:12]}"
    clause = f' TEMPLATE "{template}"' if template else ""
    await _admin(admin_url, f'CREATE DATABASE "{name}"{clause}')
    return _with_database(admin_url, name).replace("postgresql://", "postgresql+asyncpg://", 1)


async def drop_database(admin_url: str, url: str) -> None:
    name = url.rpartition("/")[2]
    await _admin(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def shared_postgres_reachable() -> bool:
    try:
        await _admin(POSTGRES_URL, "SELECT 1")
    except Exception:
        return False
    return True


# --- the server in a subprocess -----------------------------------------------------------


class ServerProcess:
    """``inner-circle serve`` in a subprocess; kill -9 and start again on the same port.

    ``url`` and ``settings`` make it usable with :class:`tests.support.Family`, which
    issues invitations straight into the same database (as the admin CLI would).
    """

    def __init__(self, database_url: str, data_dir: Path, **env: str) -> None:
        self.database_url = database_url
        self.data_dir = data_dir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.settings = make_settings(database_url, data_dir)
        self.env = {
            **os.environ,
            "INNER_CIRCLE_DATABASE_URL": database_url,
            "INNER_CIRCLE_DATA_DIR": str(data_dir),
            "INNER_CIRCLE_JWT_SECRET": JWT_SECRET,
            "INNER_CIRCLE_ARGON2_MEMORY_KIB": str(FAST_HASHING["argon2_memory_kib"]),
            "INNER_CIRCLE_ARGON2_TIME_COST": str(FAST_HASHING["argon2_time_cost"]),
            "INNER_CIRCLE_LIMIT_MESSAGE_BURST": "100000",
            "INNER_CIRCLE_LIMIT_MESSAGE_PER_SECOND": "100000",
            "INNER_CIRCLE_LOG_LEVEL": "WARNING",
            **env,
        }
        self.env.pop("INNER_CIRCLE_REDIS_URL", None)
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self.kills = 0
        self.log_path = data_dir / "server.log"

    async def start(self, timeout: float = 30) -> None:
        """Start (or start again) and wait until ``/healthz`` answers."""
        assert self.process is None or self.process.poll() is not None, "already running"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:  # noqa: ASYNC230 (the child keeps its own descriptor)
            log.write(f"--- start {self.starts + 1}\n".encode())
            log.flush()
            self.process = subprocess.Popen(  # noqa: ASYNC220 (starting it does not block)
                [sys.executable, "-m", "inner_circle.cli.main", "serve", "--port", str(self.port)],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.starts += 1
        process = self.process

        async with httpx.AsyncClient(timeout=1) as http:

            async def healthy() -> bool:
                if process.poll() is not None:
                    raise RuntimeError(f"server exited:\n{self.log_tail()}")
                try:
                    return (await http.get(f"{self.url}/healthz")).status_code == 200
                except httpx.TransportError:
                    return False

            await wait_until(healthy, timeout=timeout, what="server health")

    def kill(self) -> None:
        """SIGKILL: no shutdown, no flushing, connections cut as by a crash."""
        assert self.process is not None and self.process.poll() is None, "not running"
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)
        self.kills += 1

    async def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                await asyncio.to_thread(self.process.wait, 15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    async def status(self, path: str) -> int:
        async with httpx.AsyncClient(timeout=5) as http:
            return (await http.get(f"{self.url}{path}")).status_code


# --- a private PostgreSQL cluster ---------------------------------------------------------


class PrivatePostgres:
    """A PostgreSQL cluster of our own in a temporary folder, on a free loopback port.

    Debian's server binaries refuse to run as root, so as root they run as the
    ``postgres`` user (``runuser``). :meth:`stop` defaults to ``immediate``: the
    postmaster and its backends exit at once, as in a crash, and every client
    connection is cut.
    """

    def __init__(self) -> None:
        self.bin_dir = self.find_bin_dir()
        self.port = free_port()
        self.root: Path | None = None
        self.admin_url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    @staticmethod
    def find_bin_dir() -> Path | None:
        found = sorted(
            glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"),
            key=lambda p: int(p.split("/")[4]) if p.split("/")[4].isdigit() else 0,
        )
        return Path(found[-1]).parent if found else None

    @classmethod
    def unavailable_reason(cls) -> str | None:
        """Why a private cluster cannot run here, or None when it can."""
        if cls.find_bin_dir() is None:
            return "PostgreSQL server binaries (initdb, pg_ctl) not found in /usr/lib/postgresql"
        if os.geteuid() == 0:
            if shutil.which("runuser") is None:
                return "runuser is missing (needed to run PostgreSQL as a non-root user)"
            try:
                import pwd

                pwd.getpwnam("postgres")
            except KeyError:
                return "there is no postgres user to run a private PostgreSQL as"
        return None

    def _run(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        assert self.bin_dir is not None
        command = [str(self.bin_dir / args[0]), *args[1:]]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        result = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, check=False
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"{args[0]} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}\n"
                f"{self.log_tail()}"
            )
        return result

    @property
    def data(self) -> Path:
        assert self.root is not None
        return self.root / "data"

    def log_tail(self, lines: int = 30) -> str:
        if self.root is None:
            return ""
        try:
            return "\n".join(
                (self.root / "postgres.log").read_text(errors="replace").splitlines()[-lines:]
            )
        except OSError:
            return ""

    def init(self) -> None:
        """Create the cluster (trust auth for loopback, sockets in our own folder) and start it."""
        # Not under pytest's tmp_path: that is private to root, and the server runs as postgres.
        self.root = Path(tempfile.mkdtemp(prefix="ic-pg-", dir="/tmp"))
        os.chmod(self.root, 0o755)
        (self.root / "sock").mkdir()
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
            shutil.chown(self.root / "sock", "postgres", "postgres")
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-sync",
        )
        self.start()

    def start(self) -> None:
        options = f"-p {self.port} -k {self.root}/sock -c listen_addresses=127.0.0.1"
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-l",
            f"{self.root}/postgres.log",
            "-o",
            options,
            "-w",
            "-t",
            "60",
            "start",
        )

    def stop(self, mode: str = "immediate") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")

    def destroy(self) -> None:
        if self.root is None:
            return
        try:
            if (self.data / "postmaster.pid").exists():
                self.stop("immediate")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
            self.root = None

    async def create_database(self) -> str:
        return await create_database(self.admin_url)
