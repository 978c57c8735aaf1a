"""How long the disk takes to make a write durable: ``python -m bench.diskprobe [--dir D]``.

Every durable commit waits for one ``fsync`` (SQLite's WAL with ``synchronous=FULL``,
PostgreSQL's WAL flush), so a disk whose flushes sometimes take hundreds of milliseconds
puts those milliseconds into message latency whatever the server does; the floor, which
keeps nothing, never sees them. Run this beside (or instead of) a benchmark to tell the two
apart: it appends 4 KB to a file and ``fsync``s it ``--rate`` times a second for
``--seconds``, in ``--dir`` (the bench's results folder by default, where its data lives),
and prints the distribution and how many took over 50 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

from bench.server import RESULTS


def probe(folder: Path, seconds: float, rate: float) -> dict[str, float]:
    folder.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix="diskprobe-", dir=folder)
    took: list[float] = []
    try:
        start = time.monotonic()
        while (now := time.monotonic()) - start < seconds:
            due = start + len(took) / rate
            if due > now:
                time.sleep(due - now)  # a fixed rate, not a timing wait
            os.write(handle, b"\0" * 4096)
            began = time.perf_counter()
            os.fsync(handle)
            took.append((time.perf_counter() - began) * 1000)
    finally:
        os.close(handle)
        os.unlink(name)
    took.sort()
    n = len(took)
    return {
        "fsyncs": n,
        "p50_ms": round(took[n // 2], 2),
        "p99_ms": round(took[int(n * 0.99)], 2),
        "p999_ms": round(took[int(n * 0.999)], 2),
        "max_ms": round(took[-1], 2),
        "over_50ms": sum(t > 50 for t in took),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dir", type=Path, default=RESULTS, help="a folder on the disk to probe")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--rate", type=float, default=200.0, help="fsyncs a second")
    args = parser.parse_args()
    print(json.dumps({"dir": str(args.dir), **probe(args.dir, args.seconds, args.rate)}))


if __name__ == "__main__":
    main()
