"""Event-loop stalls, logged with their cause.

One event loop serves every connection of a process: while a callback runs without
yielding (a long computation, a blocking call, a full garbage-collector pass), every
delivery waits. The watchdog finds such stalls and says where the loop was:

* a heartbeat task on the loop wakes every ``tick``; waking more than ``threshold``
  late is a stall, reported (log line and metric) as soon as the loop runs again;
* a daemon thread looks at the heartbeat as well and, while it is overdue, samples
  the loop thread's Python stack (``sys._current_frames``); the report names the
  place seen most often (the innermost frame of this project, else the innermost
  frame), so a stall reads "120 ms in services/search.py:88 (search)", not just "120 ms";
* the garbage collector's own pauses over 1 ms during the stall are added
  (``gc.callbacks``): a full pass shows as "gc gen 2 85 ms";
* the loop thread's time on a CPU and waiting for one over the stall (Linux's per-thread
  ``schedstat``, read by the heartbeat itself) tell a busy loop from one that waited: for
  a core while other processes had them (a neighbour on the machine), or blocked in a
  system call. A sample in the event loop's own code (uvloop's polling, in C) reads
  "in the event loop itself".

The thread only reads the heartbeat and stacks: it never touches the loop.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from types import FrameType
from typing import Any

from inner_circle.core.throttle import ReportThrottle

__all__ = ["Stall", "StallWatchdog"]

log = logging.getLogger(__name__)

_PACKAGE = os.sep + "inner_circle" + os.sep
_HERE = os.path.abspath(__file__)
GC_REPORTED_MS = 1.0


class ThreadClock:
    """The calling thread's seconds on a CPU and waiting in the run queue for one, from
    Linux's ``/proc/self/task/<tid>/schedstat`` (kept open: a read is one ``pread``).
    Elsewhere, or where the kernel keeps no such count, :meth:`read` gives None."""

    def __init__(self) -> None:
        try:
            path = f"/proc/self/task/{threading.get_native_id()}/schedstat"
            self._fd: int | None = os.open(path, os.O_RDONLY)
        except OSError:
            self._fd = None

    def read(self) -> tuple[float, float] | None:
        if self._fd is None:
            return None
        try:
            on_cpu, waiting, _ = os.pread(self._fd, 128, 0).split()
            return int(on_cpu) / 1e9, int(waiting) / 1e9
        except (OSError, ValueError):
            return None

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


@dataclass(frozen=True, slots=True)
class Stall:
    """One stall: how long the loop did not run, and where it was meanwhile."""

    ms: float
    where: str  # the most sampled place, "" when no sample was taken
    samples: int
    gc: tuple[tuple[int, float], ...] = field(default=())  # (generation, ms) pauses
    # Over the stall's window (the late beat's whole interval): the loop thread's time on
    # a CPU and waiting for one; None where the kernel gives no such count.
    window_ms: float | None = None
    cpu_ms: float | None = None
    wait_ms: float | None = None

    @property
    def cause(self) -> str:
        """Where most of the window went: ``busy`` (the loop's thread ran), ``cpu_wait``
        (it waited for a core other processes had), ``blocked`` (it slept: a system call,
        a lock, I/O); ``unknown`` where the thread's times cannot be read."""
        if self.window_ms is None or self.cpu_ms is None or self.wait_ms is None:
            return "unknown"
        shares = {
            "busy": self.cpu_ms,
            "cpu_wait": self.wait_ms,
            "blocked": self.window_ms - self.cpu_ms - self.wait_ms,
        }
        return max(shares, key=lambda cause: shares[cause])

    def describe(self) -> str:
        parts = [f"in {self.where} ({self.samples} samples)" if self.where else "not sampled"]
        parts += [f"gc gen {gen} {ms:.0f} ms" for gen, ms in self.gc]
        if self.cause != "unknown":
            times = (
                f"of {self.window_ms:.0f} ms the loop's thread ran {self.cpu_ms:.0f}, "
                f"waited for a CPU {self.wait_ms:.0f}"
            )
            why = {
                "busy": "busy",
                "cpu_wait": "waiting for a CPU: other processes had the cores",
                "blocked": "blocked: a system call, a lock or I/O",
            }[self.cause]
            parts.append(f"{why} ({times})")
        return f"event loop stalled {self.ms:.0f} ms: " + "; ".join(parts)


# Frames that only start the loop: a stack whose innermost project frame is one of these
# was busy in libraries (Socket.IO, uvicorn, the database driver), named instead.
_ENTRY = (os.sep + "serving.py", os.sep + "asgi.py", os.sep + "cli" + os.sep, _HERE)
# The innermost frame while uvloop runs (its loop is C code under this call): polling, or
# its own I/O callbacks; no Python code of anyone's was running.
_LOOP_ITSELF = os.sep.join(("asyncio", "runners.py"))
IN_THE_LOOP = "the event loop itself"


def _where(frame: FrameType | None) -> str:
    """The innermost frame of this project on the stack (else the innermost one)."""
    innermost = frame
    while frame is not None:
        name = frame.f_code.co_filename
        if _PACKAGE in name and not any(part in name for part in _ENTRY):
            return _place(frame)
        frame = frame.f_back
    if innermost is not None and innermost.f_code.co_filename.endswith(_LOOP_ITSELF):
        return IN_THE_LOOP
    return _place(innermost) if innermost is not None else ""


def _place(frame: FrameType) -> str:
    name = frame.f_code.co_filename
    cut = name.rfind(_PACKAGE)
    if cut >= 0:
        short = name[cut + len(_PACKAGE) :]
    else:  # a library: its package and module ("engineio/async_socket.py")
        short = os.sep.join(name.split(os.sep)[-2:])
    return f"{short}:{frame.f_lineno} ({frame.f_code.co_name})"


class StallWatchdog:
    """Reports event-loop stalls over ``threshold`` seconds; run :meth:`run` as a task."""

    def __init__(
        self,
        *,
        threshold: float = 0.05,
        tick: float = 0.01,
        on_stall: Callable[[Stall], None] | None = None,
    ) -> None:
        self.threshold = threshold
        self.tick = tick
        self._on_stall = on_stall
        self._beat = time.perf_counter()
        self._samples: list[str] = []
        self._gc: list[tuple[int, float]] = []
        self._gc_started: tuple[int, float] | None = None
        self._loop_thread: int | None = None
        self._stop = threading.Event()
        self._sample_failed = False
        # An overloaded loop is late on every tick: one log line a second at most.
        self._reports = ReportThrottle()

    async def run(self) -> None:
        """The heartbeat; starts the sampling thread and stops it when cancelled."""
        self._loop_thread = threading.get_ident()
        clock = ThreadClock()
        self._stop.clear()
        sampler = threading.Thread(target=self._sample, name="stall-watchdog", daemon=True)
        sampler.start()
        gc.callbacks.append(self._on_gc)
        try:
            while True:
                before = time.perf_counter()
                used = clock.read()
                self._beat = before
                await asyncio.sleep(self.tick)
                window = time.perf_counter() - before
                late = window - self.tick
                if late > self.threshold:
                    self._report(late, window, used, clock.read())
                else:
                    self._samples.clear()
                    self._gc.clear()
        finally:
            gc.callbacks.remove(self._on_gc)
            self._stop.set()
            clock.close()

    def _report(
        self,
        late: float,
        window: float,
        before: tuple[float, float] | None,
        after: tuple[float, float] | None,
    ) -> None:
        samples, self._samples = self._samples, []
        pauses, self._gc = self._gc, []
        common = Counter(samples).most_common(1)
        where, count = common[0] if common else ("", 0)
        times: tuple[float | None, ...] = (None, None, None)
        if before is not None and after is not None:
            ran, waited = (round((b - a) * 1000, 1) for a, b in zip(before, after, strict=True))
            times = (round(window * 1000, 1), ran, waited)
        stall = Stall(round(late * 1000, 1), where, count, tuple(pauses), *times)
        more = self._reports.admit(stall.ms, time.perf_counter())
        if more is not None:
            log.warning(stall.describe() + more)
        if self._on_stall is not None:
            self._on_stall(stall)

    def _sample(self) -> None:
        """The sampling thread: asleep until the heartbeat would be overdue, then the loop's
        stack every tick until the beat comes. A loop on time moves the beat before the
        thread wakes, so it wakes once per two or three beats (it woke at every tick: an
        idle server's CPU went 0.6 % -> 2 % of a core for the watchdog alone)."""
        overdue = self.tick + self.threshold / 2
        while True:
            wait = self._beat + overdue - time.perf_counter()
            if wait > 0:
                if self._stop.wait(wait):
                    return
                continue
            try:
                where = self._sample_loop()
            except Exception:  # a sample is best effort; the watchdog must live
                # Another thread's stack is read while it runs; if the interpreter cannot
                # give it, this tick has no sample and the report still comes.
                if not self._sample_failed:
                    log.warning("could not read the event loop's stack (once)", exc_info=True)
                self._sample_failed = True
            else:
                if where:
                    self._samples.append(where)
            if self._stop.wait(self.tick):
                return

    def _sample_loop(self) -> str:
        frame = sys._current_frames().get(self._loop_thread or -1)
        if frame is None:
            return ""
        # Seen in our own GC callback: the collection held the loop (gc below).
        if frame.f_code is self._on_gc.__func__.__code__:
            return "garbage collection"
        return _where(frame)

    def _on_gc(self, phase: str, info: dict[str, Any]) -> None:
        if threading.get_ident() != self._loop_thread:
            return
        now = time.perf_counter()
        if phase == "start":
            self._gc_started = (int(info.get("generation", -1)), now)
        elif self._gc_started is not None:
            generation, started = self._gc_started
            self._gc_started = None
            ms = (now - started) * 1000
            if ms >= GC_REPORTED_MS:
                self._gc.append((generation, round(ms, 1)))
