"""Load-generator processes: lean Socket.IO clients driven by commands from the parent.

Open loop: message ``k`` of a step is due at ``t_start + k / rate`` whatever
happened to earlier messages, and every latency is measured from that scheduled
time (so a stalled server shows up as latency, not as a slower schedule). The
scheduled time travels inside the message text; ``CLOCK_MONOTONIC`` is one
clock for every process on the machine, so receivers in any process can use it.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import resource
import time
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

import aiohttp

from bench.lean import LeanSocket

__all__ = ["Generator", "GeneratorSpec"]

PAD = "x" * 40  # a family message is short; ~60 bytes of text in all


@dataclass
class GeneratorSpec:
    urls: list[str]
    tokens: list[tuple[str, int]]  # (access token, index into urls)
    chats: list[tuple[str, list[int]]]  # (chat id, local client indexes)
    connect_concurrency: int = 20


@dataclass
class _Step:
    step_id: int
    sent: int = 0
    acked: int = 0
    ack_failed: int = 0
    expected: int = 0
    delivered: int = 0
    dups: int = 0
    late: int = 0
    last_recv_ns: int = 0
    lat_us: list[int] = field(default_factory=list)
    ack_us: list[int] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class _Worker:
    def __init__(self, spec: GeneratorSpec) -> None:
        self.spec = spec
        self.sockets: list[LeanSocket] = []
        self.seen: list[set[int]] = []
        self.step: _Step | None = None
        self.members_of_chat = [len(members) for _, members in spec.chats]

    def _handler(self, index: int) -> Any:
        seen = self.seen[index]

        def on_event(name: str, data: Any, now: int) -> None:
            if name != "messageReceived":
                return
            content = data.get("content", "") if isinstance(data, dict) else ""
            if not content.startswith("B|"):
                return
            _, step_id, k, scheduled, _ = content.split("|", 4)
            step = self.step
            if step is None or int(step_id) != step.step_id:
                if step is not None:
                    step.late += 1
                return
            key = int(k)
            if key in seen:
                step.dups += 1
                return
            seen.add(key)
            step.delivered += 1
            step.last_recv_ns = now
            step.lat_us.append((now - int(scheduled)) // 1000)

        return on_event

    async def connect_all(self) -> tuple[int, list[str]]:
        self.http = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=0, force_close=False),
        )
        gate = asyncio.Semaphore(self.spec.connect_concurrency)
        errors: list[str] = []
        self.seen = [set() for _ in self.spec.tokens]
        self.sockets = [LeanSocket(self._handler(i)) for i in range(len(self.spec.tokens))]

        async def one(index: int) -> None:
            token, url_index = self.spec.tokens[index]
            async with gate:
                for attempt in range(3):
                    try:
                        await self.sockets[index].connect(
                            self.http, self.spec.urls[url_index], token
                        )
                        return
                    except Exception as exc:
                        if attempt == 2:
                            errors.append(f"{type(exc).__name__}: {exc}"[:200])
                        await asyncio.sleep(0.2)

        await asyncio.gather(*(one(i) for i in range(len(self.sockets))))
        return sum(1 for s in self.sockets if s.sid), errors

    async def run_step(
        self, step_id: int, rate: float, duration: float, t_start_ns: int, drain: float
    ) -> dict[str, Any]:
        step = _Step(step_id)
        for seen in self.seen:
            seen.clear()
        self.step = step
        chats = self.spec.chats
        n_chats = len(chats)
        total = int(rate * duration) if n_chats else 0
        interval = 1e9 / rate if rate > 0 else 0.0
        pending: set[asyncio.Future[Any]] = set()
        wait = (t_start_ns - time.monotonic_ns()) / 1e9
        if wait > 0:
            await asyncio.sleep(wait)
        cpu0 = _cpu()

        def acked(future: asyncio.Future[Any], scheduled: int, members: int) -> None:
            pending.discard(future)
            now = time.monotonic_ns()
            if future.cancelled() or future.exception() is not None:
                step.ack_failed += 1
                step.errors["connection"] = step.errors.get("connection", 0) + 1
                return
            result = future.result()
            ack = result[0] if isinstance(result, list) and result else result
            if isinstance(ack, dict) and ack.get("ok"):
                step.acked += 1
                step.expected += members
                step.ack_us.append((now - scheduled) // 1000)
            else:
                step.ack_failed += 1
                code = (
                    str((ack or {}).get("error", {}).get("code", "?"))
                    if isinstance(ack, dict)
                    else "?"
                )
                step.errors[code] = step.errors.get(code, 0) + 1

        k = 0
        while k < total:
            now = time.monotonic_ns()
            due = min(total, int((now - t_start_ns) / interval) + 1)
            while k < due:
                scheduled = t_start_ns + int(k * interval)
                chat_index = k % n_chats
                chat_id, members = chats[chat_index]
                sender = members[(k // n_chats) % len(members)]
                socket = self.sockets[sender]
                content = f"B|{step_id}|{k}|{scheduled}|{PAD}"
                if socket.sid is None or socket.closed.is_set():
                    step.ack_failed += 1
                    step.errors["not-connected"] = step.errors.get("not-connected", 0) + 1
                else:
                    future = socket.emit_with_ack(
                        "sendMessage",
                        {
                            "chatId": chat_id,
                            "content": content,
                            "clientMessageId": f"b{step_id}-{k}-{os.getpid()}",
                        },
                    )
                    pending.add(future)
                    future.add_done_callback(lambda f, s=scheduled, m=len(members): acked(f, s, m))
                step.sent += 1
                k += 1
            if k < total:
                next_due = t_start_ns + int(k * interval)
                await asyncio.sleep(max(0.0, (next_due - time.monotonic_ns()) / 1e9))
        send_end = time.monotonic_ns()
        cpu_send = _cpu() - cpu0
        deadline = time.monotonic() + drain
        while time.monotonic() < deadline:
            if not pending and step.delivered >= step.expected:
                break
            await asyncio.sleep(0.02)  # polling a condition, bounded by the drain deadline
        unacked = len(pending)
        for future in list(pending):
            future.cancel()
        self.step = None
        for socket in self.sockets:
            if socket.closed.is_set() and socket.close_reason:
                key = "closed: " + socket.close_reason
                step.errors[key] = step.errors.get(key, 0) + 1
        return {
            "sent": step.sent,
            "acked": step.acked,
            "ack_failed": step.ack_failed,
            "unacked": unacked,
            "expected": step.expected,
            "delivered": step.delivered,
            "dups": step.dups,
            "late": step.late,
            "errors": step.errors,
            "lat_us": step.lat_us,
            "ack_us": step.ack_us,
            "send_end_ns": send_end,
            "last_recv_ns": step.last_recv_ns,
            "cpu_send": cpu_send,
            "cpu_total": _cpu() - cpu0,
        }

    async def close(self) -> None:
        gate = asyncio.Semaphore(200)

        async def one(socket: LeanSocket) -> None:
            async with gate:
                try:
                    await asyncio.wait_for(socket.close(), 5)
                except (TimeoutError, Exception):
                    pass

        await asyncio.gather(*(one(s) for s in self.sockets))
        await self.http.close()


def _child(conn: Connection, spec: GeneratorSpec) -> None:
    try:
        import uvloop

        uvloop.install()
    except ImportError:  # pragma: no cover - uvloop ships with uvicorn[standard]
        pass
    asyncio.run(_child_main(conn, spec))


async def _child_main(conn: Connection, spec: GeneratorSpec) -> None:
    loop = asyncio.get_running_loop()
    worker = _Worker(spec)
    connected, errors = await worker.connect_all()
    conn.send(("ready", connected, errors[:5], len(errors)))
    while True:
        command = await loop.run_in_executor(None, conn.recv)
        kind = command[0]
        if kind == "step":
            conn.send(("step", await worker.run_step(*command[1:])))
        elif kind == "alive":
            conn.send(
                ("alive", sum(1 for s in worker.sockets if s.sid and not s.closed.is_set()), _cpu())
            )
        elif kind == "close":
            await worker.close()
            conn.send(("closed",))
            return


class Generator:
    """Several generator processes, each owning whole chats (all members of a chat)."""

    def __init__(self, specs: list[GeneratorSpec]) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.specs = specs
        self.pipes: list[Connection] = []
        self.procs: list[Any] = []
        for spec in specs:
            parent, child = ctx.Pipe()
            proc = ctx.Process(target=_child, args=(child, spec), daemon=True)
            proc.start()
            self.pipes.append(parent)
            self.procs.append(proc)

    def _recv(self, pipe: Connection, timeout: float) -> Any:
        if not pipe.poll(timeout):
            raise TimeoutError("a generator process did not answer in time")
        return pipe.recv()

    def wait_ready(self, timeout: float = 600) -> tuple[int, list[str]]:
        connected = 0
        errors: list[str] = []
        for pipe in self.pipes:
            _, count, errs, _n = self._recv(pipe, timeout)
            connected += count
            errors += errs
        return connected, errors

    def step(
        self, step_id: int, rates: list[float], duration: float, t_start_ns: int, drain: float
    ) -> list[dict[str, Any]]:
        for pipe, rate in zip(self.pipes, rates, strict=True):
            pipe.send(("step", step_id, rate, duration, t_start_ns, drain))
        timeout = (t_start_ns - time.monotonic_ns()) / 1e9 + duration + drain + 60
        return [self._recv(pipe, timeout)[1] for pipe in self.pipes]

    def alive(self) -> int:
        for pipe in self.pipes:
            pipe.send(("alive",))
        return sum(self._recv(pipe, 30)[1] for pipe in self.pipes)

    def close(self) -> None:
        for pipe in self.pipes:
            try:
                pipe.send(("close",))
            except (BrokenPipeError, OSError):
                continue
        for pipe in self.pipes:
            try:
                self._recv(pipe, 60)
            except (TimeoutError, EOFError, OSError):
                pass
        for proc in self.procs:
            proc.join(10)
            if proc.is_alive():
                proc.terminate()

    def pids(self) -> list[int]:
        return [proc.pid for proc in self.procs]
