"""A short soak in CI: ~30 s of traffic with every kind of fault, and a clean verdict."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.delivery.harness import PrivatePostgres
from tests.support import need_service

ROOT = Path(__file__).resolve().parents[2]
SOAK_LIMIT = 200  # seconds; it takes about 40 on a quiet machine


# Above the soak's own limit, so that a slow run ends with the soak's output, not pytest's.
@pytest.mark.timeout(SOAK_LIMIT + 60)
def test_short_soak_loses_and_doubles_nothing() -> None:
    reason = PrivatePostgres.unavailable_reason()
    if reason is not None:
        need_service(reason)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.delivery.soak",
            "--seconds",
            "30",
            "--clients",
            "4",
            "--database",
            "private-pg",
            "--fault-gap",
            "0.5",
            "2",
            "--verbose",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=SOAK_LIMIT,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    verdict = next(line for line in result.stdout.splitlines() if line.startswith("SOAK "))
    print(verdict)
    assert verdict.startswith("SOAK PASS"), output
    counts = dict(re.findall(r"(\w+)=(\d+)", verdict))
    assert int(counts["sent"]) > 100 and counts["sent"] == counts["acked"] == counts["stored"]
    assert counts["duplicates"] == "0" and counts["losses"] == "0"
    faults = dict(re.findall(r"(\w+)=(\d+)", verdict.split("faults[")[1].split("]")[0]))
    assert {"kill", "outage"} <= set(faults), verdict
