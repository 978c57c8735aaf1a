"""The benchmark harness itself works: a tiny one-family run (real benchmarks are not CI)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_one_family_smoke_run(tmp_path: Path) -> None:
    doc = tmp_path / "performance.md"
    result = subprocess.run(
        [sys.executable, "-m", "bench", "one-family", "--rate", "20", "--duration", "2"],
        cwd=ROOT,
        env={**os.environ, "INNER_CIRCLE_BENCH_DOC": str(doc)},
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    record = json.loads(result.stdout.strip().splitlines()[-1])
    assert record["shape"] == "one-family"
    assert record["acked"] == record["sent"] == 40
    assert record["expected"] == 400  # ten members each get every message
    assert record["lost"] == 0
    assert record["dups"] == 0
    assert record["latency_ms"]["p50"] is not None
    assert "<!-- bench:one-family -->" in doc.read_text()


def run_bench(module: str, *args: str, timeout: float) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def test_sends_side_by_side_smoke_run() -> None:
    src = str(ROOT / "src")
    result = run_bench(
        "bench.sendsbyside", "--a", src, "--b", src, "--members", "3", "--blocks", "2",
        "--per-block", "5", timeout=120,
    )  # fmt: skip
    lines = result.stdout.strip().splitlines()[-2:]
    for name, line in zip("AB", lines, strict=True):
        assert line.startswith(f"{name}: server CPU "), line
        assert "per message (10 sent), ack p50 " in line, line
        cpu = float(line.split("server CPU ")[1].split(" ms")[0])
        assert cpu > 0, line


def test_disk_probe_smoke_run(tmp_path: Path) -> None:
    result = run_bench(
        "bench.diskprobe", "--dir", str(tmp_path), "--seconds", "0.5", "--rate", "40", timeout=60
    )
    record = json.loads(result.stdout.strip().splitlines()[-1])
    assert 1 <= record["fsyncs"] <= 21  # 40 a second for half a second, at most
    assert 0 <= record["p50_ms"] <= record["p99_ms"] <= record["max_ms"]
    assert 0 <= record["over_50ms"] <= record["fsyncs"]
    assert list(tmp_path.iterdir()) == []  # its file is gone
