"""Stalls are logged with their cause: an event loop that did not run for over 50 ms
(where it was, the garbage collector's part, and whether its thread was busy, waiting for
a CPU or blocked), and a commit over 50 ms (which phase took the time), on a real event
loop, real processes competing for a core and a real PostgreSQL."""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from inner_circle.protocol.rest import SendMessageIn
from inner_circle.server.db.uow import SYNC_LOG_LOCK
from inner_circle.server.observability.stalls import Stall, StallWatchdog, ThreadClock
from inner_circle.server.services import messages
from tests.delivery.harness import wait_until
from tests.services.conftest import World
from tests.services.test_insert_races import family_chat_id, rival_waits


def _hold_the_loop(seconds: float) -> None:
    time.sleep(seconds)  # the blocking call under test: the loop cannot run meanwhile


def _spin(seconds: float, clock: Any = time.perf_counter) -> None:
    """Busy in Python, without yielding, until ``clock`` has moved ``seconds``."""
    end = clock() + seconds
    while clock() < end:
        pass


def _schedstat_kept() -> bool:
    clock = ThreadClock()
    try:
        return clock.read() is not None
    finally:
        clock.close()


needs_schedstat = pytest.mark.skipif(
    not _schedstat_kept(), reason="the kernel keeps no per-thread schedstat"
)


async def _watch(watchdog: StallWatchdog) -> asyncio.Task[None]:
    task = asyncio.create_task(watchdog.run())
    await asyncio.sleep(watchdog.tick * 3)  # let the heartbeat and its sampler start
    return task


async def test_a_blocked_loop_is_logged_with_where_it_was(caplog: Any) -> None:
    stalls: list[Stall] = []
    watchdog = StallWatchdog(on_stall=stalls.append)
    task = await _watch(watchdog)
    with caplog.at_level(logging.WARNING, "inner_circle.server.observability.stalls"):
        _hold_the_loop(0.2)
        await wait_until(lambda: bool(stalls), timeout=5, what="the stall reported")
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    (stall,) = stalls
    assert stall.ms >= 150
    assert "test_stalls.py" in stall.where and "_hold_the_loop" in stall.where
    assert stall.samples >= 3
    [line] = [r.getMessage() for r in caplog.records if "event loop stalled" in r.getMessage()]
    assert "_hold_the_loop" in line
    if stall.cause != "unknown":  # the kernel's count, where it keeps one (next tests)
        assert stall.cause == "blocked", stall
        assert "blocked: a system call, a lock or I/O" in line


@needs_schedstat
async def test_a_loop_busy_on_the_cpu_reports_its_own_time() -> None:
    stalls: list[Stall] = []
    watchdog = StallWatchdog(on_stall=stalls.append)
    task = await _watch(watchdog)
    _spin(0.25, clock=time.thread_time)  # a quarter of a second of this thread's CPU
    await wait_until(lambda: bool(stalls), timeout=5, what="the stall reported")
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    (stall,) = stalls
    assert stall.cpu_ms is not None and stall.window_ms is not None
    assert 240 <= stall.cpu_ms <= stall.window_ms + 5, stall  # the kernel counts in ns
    assert "test_stalls.py" in stall.where and "_spin" in stall.where


@contextmanager
def _competing_for(cpu: int, processes: int) -> Iterator[None]:
    """This thread and ``processes`` busy processes on one core only."""
    hogs = [
        subprocess.Popen(
            [sys.executable, "-c", "import sys\nprint('on', flush=True)\nwhile True: pass"],
            stdout=subprocess.PIPE,
            preexec_fn=lambda: os.sched_setaffinity(0, {cpu}),
        )
        for _ in range(processes)
    ]
    allowed = os.sched_getaffinity(0)
    try:
        for hog in hogs:
            assert hog.stdout is not None and hog.stdout.readline() == b"on\n"  # spinning
        os.sched_setaffinity(0, {cpu})  # Linux: the calling thread only
        yield
    finally:
        os.sched_setaffinity(0, allowed)
        for hog in hogs:
            hog.kill()
            hog.wait()
            if hog.stdout is not None:
                hog.stdout.close()


@needs_schedstat
async def test_a_loop_starved_of_the_cpu_is_told_from_a_busy_one(caplog: Any) -> None:
    stalls: list[Stall] = []
    watchdog = StallWatchdog(on_stall=stalls.append)
    cpu = min(os.sched_getaffinity(0))
    with caplog.at_level(logging.WARNING, "inner_circle.server.observability.stalls"):
        with _competing_for(cpu, processes=2):
            task = await _watch(watchdog)
            stalls.clear()  # the beats while this thread moved onto the busy core
            # 0.4 s of wall time on a core shared three ways: about a third of it running.
            _spin(0.4)
            await wait_until(lambda: bool(stalls), timeout=5, what="the stall reported")
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
    stall = max(stalls, key=lambda s: s.ms)
    assert stall.cause == "cpu_wait", stall
    assert stall.wait_ms is not None and stall.cpu_ms is not None
    assert stall.wait_ms > stall.cpu_ms, stall
    lines = [r.getMessage() for r in caplog.records if "event loop stalled" in r.getMessage()]
    assert any("waiting for a CPU: other processes had the cores" in line for line in lines)


def test_a_stall_is_put_down_to_where_most_of_its_time_went() -> None:
    def stall(cpu: float | None, wait: float | None) -> Stall:
        return Stall(100, "", 0, window_ms=110, cpu_ms=cpu, wait_ms=wait)

    assert stall(95, 5).cause == "busy"
    assert stall(30, 70).cause == "cpu_wait"
    assert stall(5, 2).cause == "blocked"
    assert stall(None, None).cause == "unknown"
    assert (
        "busy (of 110 ms the loop's thread ran 95, waited for a CPU 5)" in stall(95, 5).describe()
    )
    assert "ran" not in stall(None, None).describe()


async def test_stalls_in_quick_succession_are_logged_once_a_second_with_a_count(
    caplog: Any,
) -> None:
    stalls: list[Stall] = []
    watchdog = StallWatchdog(on_stall=stalls.append)
    task = await _watch(watchdog)
    with caplog.at_level(logging.WARNING, "inner_circle.server.observability.stalls"):
        for expected in (1, 2):
            _hold_the_loop(0.08)
            await wait_until(lambda n=expected: len(stalls) == n, timeout=5, what="stall")
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    lines = [r.getMessage() for r in caplog.records if "event loop stalled" in r.getMessage()]
    assert len(stalls) == 2 and len(lines) == 1, lines  # both counted, the second not logged


async def test_a_stack_that_cannot_be_read_still_gives_a_report(monkeypatch: Any) -> None:
    def unreadable() -> dict[int, Any]:
        raise RuntimeError("frames unavailable")

    # The interpreter refusing another thread's stack must not end the sampling thread
    # (pytest fails a test on an exception escaping a thread).
    monkeypatch.setattr(sys, "_current_frames", unreadable)
    stalls: list[Stall] = []
    watchdog = StallWatchdog(on_stall=stalls.append)
    task = await _watch(watchdog)
    for expected in (1, 2):
        _hold_the_loop(0.12)
        await wait_until(lambda n=expected: len(stalls) == n, timeout=5, what="stall")
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert [s.where for s in stalls] == ["", ""] and all(s.ms >= 70 for s in stalls)


async def test_a_loop_that_keeps_its_beat_reports_nothing() -> None:
    stalls: list[Stall] = []
    # A wide threshold: a busy CI machine may delay a beat by tens of milliseconds.
    watchdog = StallWatchdog(threshold=0.25, on_stall=stalls.append)
    task = await _watch(watchdog)
    for _ in range(20):
        _hold_the_loop(0.005)  # short callbacks, well under the threshold
        await asyncio.sleep(0)
    await asyncio.sleep(watchdog.tick * 3)  # a few more beats on time
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert stalls == []


async def test_a_full_collection_during_a_stall_is_named() -> None:
    stalls: list[Stall] = []
    watchdog = StallWatchdog(on_stall=stalls.append)
    task = await _watch(watchdog)
    cycles: list[Any] = []
    for _ in range(300_000):
        pair: list[Any] = []
        pair.append(pair)
        cycles.append(pair)
    del cycles
    gc.collect()
    _hold_the_loop(0.06)  # the stall certainly passes the threshold, GC or not
    await wait_until(lambda: bool(stalls), timeout=5, what="the stall reported")
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert any(generation == 2 and ms >= 1 for generation, ms in stalls[0].gc)
    assert "gc gen 2" in stalls[0].describe()


async def _send_held_up(
    world: World, database_url: str, caplog: Any, hold: str, params: dict[str, Any]
) -> list[str]:
    """Anna's send to the family chat while another process's transaction holds what
    ``hold`` takes, until 0.1 s after the send waits for it; the unit of work's log lines."""
    anna = await world.member("anna")
    body = SendMessageIn(
        chat_id=await family_chat_id(world, anna), content="late", client_message_id="held"
    )

    async def send(uow: Any) -> Any:
        return await messages.send_message(uow, anna, body)

    other = create_async_engine(database_url)  # another server process's connection
    try:
        async with other.connect() as holder:
            transaction = await holder.begin()
            await holder.execute(text(hold), params)
            with caplog.at_level(logging.WARNING, "inner_circle.server.db.uow"):
                sending = asyncio.create_task(world.run(send))
                await rival_waits(world)
                await asyncio.sleep(0.1)  # the wait under test: the hold lasts this long
                await transaction.rollback()
                await sending
    finally:
        await other.dispose()
    return [r.getMessage() for r in caplog.records if r.name == "inner_circle.server.db.uow"]


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_a_commit_waiting_for_the_sync_log_lock_is_logged_with_the_wait(
    world: World, database_url: str, caplog: Any
) -> None:
    lines = await _send_held_up(
        world, database_url, caplog, "SELECT pg_advisory_xact_lock(:k)", {"k": SYNC_LOG_LOCK}
    )
    [line] = [line for line in lines if line.startswith("commit took")]
    wait_ms = int(line.split("sync-log lock wait ")[1].split(" ms")[0])
    assert wait_ms >= 90, line
    assert "(1 entries)" in line


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_a_transaction_waiting_for_a_row_lock_is_logged_with_its_phases(
    world: World, database_url: str, caplog: Any
) -> None:
    hold = "SELECT 1 FROM chats WHERE type = 'family' FOR UPDATE"  # the chat's row
    lines = await _send_held_up(world, database_url, caplog, hold, {})
    [line] = [line for line in lines if line.startswith("write transaction took")]
    phases = dict(
        (name.strip(), float(ms))
        for name, ms in (part.rsplit(" ", 2)[:2] for part in line.split(": ", 1)[1].split(", "))
    )
    assert phases["statements and use case"] >= 90, line
    assert phases["statements and use case"] > 10 * phases["commit"], line
    assert phases["waiting for this process's write turn"] < 50, line
