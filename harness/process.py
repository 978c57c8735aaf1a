"""``inner-circle serve`` processes: started, awaited until ready, logged, stopped."""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx

from harness.services import Postgres, Redis, free_port

__all__ = [
    "PASSWORD",
    "ServerFailed",
    "ServerGroup",
    "ServerProcess",
    "cli",
    "command",
    "running_logs",
]

PASSWORD = "correct-horse-1"  # of members registered without one being given

_RUNNING: dict[int, ServerProcess] = {}  # id() -> process started and not yet stopped


def command() -> list[str]:
    """The command line of ``inner-circle``: the console script next to this Python, as an
    operator runs it (``python -m inner_circle.cli.main`` where it is not installed)."""
    script = Path(sys.executable).parent / "inner-circle"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "inner_circle.cli.main"]


def cli(
    env: Mapping[str, str],
    *args: str,
    input: str | None = None,
    timeout: float = 120,
    check: bool = False,
) -> subprocess.CompletedProcess[str]:
    """``inner-circle <args>`` as a separate process with exactly ``env`` (the operator's
    command line next to a running server); ``check`` raises with its stderr on failure."""
    result = subprocess.run(
        [*command(), *args],
        env=dict(env),
        capture_output=True,
        text=True,
        input=input,
        timeout=timeout,
        check=False,
    )
    if check and result.returncode != 0:
        raise RuntimeError(
            f"inner-circle {' '.join(args)} failed ({result.returncode}):\n{result.stderr[-3000:]}"
        )
    return result


def running_logs() -> list[Path]:
    """The log files of every server process running now (shown when a test fails)."""
    return [server.log_path for server in _RUNNING.values()]


def tail(path: Path, lines: int = 60) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


class ServerFailed(RuntimeError):
    """A server process exited or did not become ready; the message ends with its log."""

    def __init__(self, what: str, log_path: Path) -> None:
        super().__init__(f"{what}\n--- {log_path} (last lines) ---\n{tail(log_path)}")
        self.log_path = log_path


class ServerProcess:
    """One ``inner-circle serve`` on 127.0.0.1 that can be stopped, killed and started again
    on the same port; its output is appended to ``log_path``."""

    def __init__(
        self,
        env: dict[str, str],
        log_path: Path,
        *,
        args: Sequence[str] = (),
        ready_path: str = "/readyz",
    ) -> None:
        self.env = env  # shared with the group: a change before start() reaches the process
        self.log_path = log_path
        self.args = list(args)
        self.ready_path = ready_path
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self.kills = 0

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self, timeout: float = 60) -> None:
        """Start (or start again) and return once ``ready_path`` answers 200."""
        assert not self.running, "already running"
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:  # the child keeps its own descriptor
            if self.starts:  # a restart: where the next run's lines begin
                log.write(f"--- start {self.starts + 1}\n".encode())
                log.flush()
            self.process = subprocess.Popen(
                [*command(), "serve", "--port", str(self.port), *self.args],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.starts += 1
        _RUNNING[id(self)] = self
        try:
            self.wait_ready(timeout)
        except BaseException:
            self.stop()
            raise

    def wait_ready(self, timeout: float) -> None:
        """Ask ``ready_path`` until it answers 200. Between two asks this waits for the
        process to exit (with a short timeout): a server that dies is reported at once,
        with its log, instead of after the whole timeout."""
        assert self.process is not None
        deadline = time.monotonic() + timeout
        with httpx.Client(timeout=2) as http:
            while True:
                try:
                    if http.get(self.url + self.ready_path).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                left = deadline - time.monotonic()
                if left <= 0:
                    raise ServerFailed(f"{self.url} not ready within {timeout} s", self.log_path)
                try:
                    code = self.process.wait(timeout=min(0.05, left))
                except subprocess.TimeoutExpired:
                    continue
                raise ServerFailed(f"the server exited ({code}) before it was ready", self.log_path)

    def kill(self) -> None:
        """SIGKILL: no shutdown, no goodbye to clients, connections cut as by a crash."""
        assert self.running, "not running"
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)
        self.kills += 1
        _RUNNING.pop(id(self), None)

    def stop(self, timeout: float = 15) -> int | None:
        """SIGTERM (a graceful shutdown), SIGKILL after ``timeout``; the exit code."""
        _RUNNING.pop(id(self), None)
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        return self.process.returncode

    def log_tail(self, lines: int = 60) -> str:
        return tail(self.log_path, lines)

    def status(self, path: str) -> int:
        return httpx.get(self.url + path, timeout=5).status_code


class ServerGroup:
    """A deployment under test: one database, optional Redis, ``processes`` servers.

    ``database``: ``"sqlite"`` (a file in the data folder, created by the server),
    ``"postgres"`` (a fresh database on ``postgres``, dropped by :meth:`close`) or a
    SQLAlchemy URL the caller owns. ``redis``: a Redis URL; the group uses a key prefix
    of its own and deletes its keys in :meth:`close`. ``env`` adds or overrides
    ``INNER_CIRCLE_*`` settings; nothing else of the caller's ``INNER_CIRCLE_*``
    environment reaches the servers. Several processes get one JWT secret and are
    started one after the other, after one ``inner-circle migrate``.

    :meth:`start` may be called again after :meth:`stop` or :meth:`kill` (same ports,
    same database); :meth:`close` (or leaving the ``with`` block) ends everything.
    """

    def __init__(
        self,
        folder: Path,
        *,
        database: str = "sqlite",
        postgres: Postgres | None = None,
        redis: str | None = None,
        processes: int = 1,
        workers: int = 1,
        env: Mapping[str, str] | None = None,
        migrate_first: bool | None = None,
        ready_path: str = "/readyz",
        data_dir: Path | None = None,
        label: str = "ic",
    ) -> None:
        self.folder = folder
        self.data_dir = data_dir or folder
        self.postgres = postgres
        self.redis = Redis(redis) if redis else None
        self.redis_prefix = Redis.new_prefix(label) if redis else None
        self.workers = workers
        self._owned_database: str | None = None
        if database == "postgres":
            assert postgres is not None, "database='postgres' needs a Postgres"
            self._database: str | None = None  # created by the first start()
            self._label = label
        elif database == "sqlite":
            self._database = f"sqlite+aiosqlite:///{self.data_dir / 'inner-circle.db'}"
        else:
            self._database = database
        self._wants_postgres = database == "postgres"
        self._explicit = database not in ("sqlite", "postgres")
        inherited = {k: v for k, v in os.environ.items() if not k.startswith("INNER_CIRCLE_")}
        self.env: dict[str, str] = {**inherited, "INNER_CIRCLE_DATA_DIR": str(self.data_dir)}
        if self.redis is not None and self.redis_prefix is not None:
            self.env["INNER_CIRCLE_REDIS_URL"] = self.redis.url
            self.env["INNER_CIRCLE_REDIS_KEY_PREFIX"] = self.redis_prefix
        if processes > 1 or workers > 1:
            self.env["INNER_CIRCLE_JWT_SECRET"] = secrets.token_urlsafe(48)
        self.env.update(env or {})
        self.migrate_first = processes > 1 if migrate_first is None else migrate_first
        args = ["--no-migrate"] if self.migrate_first else []
        if workers > 1:
            args += ["--workers", str(workers)]
        self.servers = [
            ServerProcess(
                self.env,
                folder / ("server.log" if processes == 1 else f"server-{index}.log"),
                args=args,
                ready_path=ready_path,
            )
            for index in range(processes)
        ]
        self._prepared = False

    # --- what a test reads ----------------------------------------------------------------

    @property
    def database_url(self) -> str:
        self._prepare_database()
        assert self._database is not None
        return self._database

    @property
    def url(self) -> str:
        return self.servers[0].url

    @property
    def urls(self) -> list[str]:
        return [server.url for server in self.servers]

    @property
    def port(self) -> int:
        return self.servers[0].port

    @property
    def process(self) -> subprocess.Popen[bytes] | None:
        return self.servers[0].process

    @property
    def log_path(self) -> Path:
        return self.servers[0].log_path

    @property
    def pids(self) -> list[int]:
        return [server.pid for server in self.servers if server.process is not None]

    @property
    def running(self) -> bool:
        return all(server.running for server in self.servers)

    @property
    def starts(self) -> int:
        return self.servers[0].starts

    @property
    def kills(self) -> int:
        return self.servers[0].kills

    @property
    def settings(self) -> Any:
        """Settings for work straight on the database (as the operator's CLI does)."""
        from inner_circle.server.settings import Settings

        values: dict[str, Any] = {"database_url": self.database_url, "data_dir": self.data_dir}
        if "INNER_CIRCLE_JWT_SECRET" in self.env:
            values["jwt_secret"] = self.env["INNER_CIRCLE_JWT_SECRET"]
        if self.redis is not None:
            values["redis_url"] = self.redis.url
            values["redis_key_prefix"] = self.redis_prefix
        return Settings(**values)

    def log_tail(self, lines: int = 60) -> str:
        return "\n".join(server.log_tail(lines) for server in self.servers)

    # --- the operator's command line --------------------------------------------------------

    def cli(
        self, *args: str, input: str | None = None, check: bool = False, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        """``inner-circle <args>`` with the servers' settings, as a separate process."""
        self._prepare_database()
        return cli(self.env, *args, input=input, timeout=timeout, check=check)

    def invite(self, admin: bool = False, uses: int = 1) -> str:
        args = ["invite", "create", "--quiet", "--uses", str(uses)] + (["--admin"] if admin else [])
        return self.cli(*args, check=True).stdout.strip()

    def register(
        self, username: str, password: str = PASSWORD, admin: bool = False, **extra: Any
    ) -> dict[str, Any]:
        """A member through ``/users/register`` with a fresh invitation; the answer's JSON."""
        body = {"username": username, "password": password, "invitationCode": self.invite(admin)}
        response = httpx.post(f"{self.url}/users/register", json={**body, **extra}, timeout=30)
        if response.status_code != 201:
            raise AssertionError(f"register {username}: {response.status_code} {response.text}")
        return dict(response.json())

    # --- lifecycle --------------------------------------------------------------------------

    def _prepare_database(self) -> None:
        if self._wants_postgres and self._database is None:
            assert self.postgres is not None
            self._database = self.postgres.create_database(self._label)
            self._owned_database = self._database
        if self._database is not None and (self._wants_postgres or self._explicit):
            self.env["INNER_CIRCLE_DATABASE_URL"] = self._database

    def start(self, timeout: float = 60) -> None:
        """Start every process that is not running, one after the other, each until ready."""
        self._prepare_database()
        if not self._prepared:
            self._prepared = True
            if self.migrate_first:
                self.cli("migrate", check=True)
        for server in self.servers:
            if not server.running:
                server.start(timeout)

    def kill(self, index: int = 0) -> None:
        self.servers[index].kill()

    def stop(self, timeout: float = 15) -> None:
        """Stop every process (SIGTERM, then SIGKILL after ``timeout``); the data stays."""
        for server in self.servers:
            if server.running:
                assert server.process is not None
                server.process.terminate()
        for server in self.servers:
            server.stop(timeout)

    def close(self, *, keep_data: bool = True) -> None:
        """Stop, drop the database this group created, delete its Redis keys."""
        try:
            self.stop()
        finally:
            if self._owned_database is not None and self.postgres is not None:
                self.postgres.drop_database(self._owned_database)
                self._owned_database = None
            if self.redis is not None and self.redis_prefix is not None:
                self.redis.flush_prefix(self.redis_prefix)
            if not keep_data:
                shutil.rmtree(self.data_dir, ignore_errors=True)

    # --- the same from async code (the blocking work runs on a thread) ---------------------

    async def astart(self, timeout: float = 60) -> None:
        await asyncio.to_thread(self.start, timeout)

    async def astop(self, timeout: float = 15) -> None:
        await asyncio.to_thread(self.stop, timeout)

    async def aclose(self) -> None:
        await asyncio.to_thread(self.close)

    async def astatus(self, path: str, index: int = 0) -> int:
        """The HTTP status of ``GET path`` on process ``index``."""
        async with httpx.AsyncClient(timeout=5) as http:
            return (await http.get(self.servers[index].url + path)).status_code

    def __enter__(self) -> ServerGroup:
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
