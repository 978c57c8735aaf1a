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
