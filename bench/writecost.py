"""What one small loopback TCP write costs the writer on this machine:
``python -m bench.writecost``.

A writer pinned to CPU 0 sends 300-byte messages over 100 connections to a reader that
sleeps in ``epoll`` on CPU 1, as the load generator does. It sends them first one at a time
(2,000 per second: each write wakes the reader), then in bursts of 100, one write per
connection (a fan-out). It prints the writer's CPU per write for both. On a virtual
machine the wake-up of a sleeping reader on the other CPU is most of a write's cost.
"""

from __future__ import annotations

import os
import resource
import selectors
import socket
import time

CONNECTIONS = 100
MESSAGE = b"x" * 300
SECONDS = 4.0


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _read_until(port: int, deadline: float) -> None:
    os.sched_setaffinity(0, {1})
    selector = selectors.DefaultSelector()
    for _ in range(CONNECTIONS):
        connection = socket.create_connection(("127.0.0.1", port))
        connection.setblocking(False)
        selector.register(connection, selectors.EVENT_READ)
    while time.monotonic() < deadline:
        for key, _ in selector.select(0.5):
            try:
                key.fileobj.recv(65536)  # type: ignore[union-attr]
            except BlockingIOError:
                pass


def main() -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(CONNECTIONS)
    port = listener.getsockname()[1]
    deadline = time.monotonic() + 2 * SECONDS + 4
    reader = os.fork()
    if reader == 0:
        try:
            _read_until(port, deadline)
        finally:
            os._exit(0)
    os.sched_setaffinity(0, {0})
    peers = [listener.accept()[0] for _ in range(CONNECTIONS)]
    for peer in peers:
        peer.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    for label, pause, burst in (
        ("one at a time, 2,000 writes/s", 1 / 2000, False),
        ("bursts of 100 (a fan-out), 20 bursts/s", 1 / 20, True),
    ):
        cpu, started, writes = _cpu(), time.monotonic(), 0
        while time.monotonic() - started < SECONDS:
            for peer in peers if burst else [peers[writes % CONNECTIONS]]:
                peer.send(MESSAGE)
                writes += 1
            time.sleep(pause)
        print(f"{label}: {1e6 * (_cpu() - cpu) / writes:.1f} µs of CPU per write ({writes} writes)")
    os.waitpid(reader, 0)


if __name__ == "__main__":
    main()
