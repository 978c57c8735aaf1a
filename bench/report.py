"""Summaries: percentiles, one JSON line per run, and a row in docs/performance.md."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

__all__ = ["append_row", "emit", "git_commit", "percentiles"]

ROOT = Path(__file__).resolve().parent.parent
# A smoke run (tests/scale) writes its rows elsewhere.
DOC = Path(os.environ.get("INNER_CIRCLE_BENCH_DOC", ROOT / "docs" / "performance.md"))


def percentiles(values: list[int], scale: float = 1000.0) -> dict[str, float | None]:
    """p50/p90/p99/p99.9/max of microsecond values, in milliseconds."""
    if not values:
        return {"p50": None, "p90": None, "p99": None, "p999": None, "max": None}
    ordered = sorted(values)
    n = len(ordered)

    def at(q: float) -> float:
        return round(ordered[min(n - 1, max(0, int(q * n + 0.999999) - 1))] / scale, 2)

    return {
        "p50": at(0.5),
        "p90": at(0.9),
        "p99": at(0.99),
        "p999": at(0.999),
        "max": round(ordered[-1] / scale, 2),
    }


def git_commit() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no", "src"],
            cwd=ROOT,
            capture_output=True,
            text=True,
        ).stdout.strip()
        return out + ("+" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "?"


def emit(record: dict[str, Any]) -> None:
    """Print the run's one JSON line."""
    sys.stdout.write(json.dumps(record, separators=(",", ":")) + "\n")
    sys.stdout.flush()


def _fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.1f}" if abs(value) >= 10 else f"{value:.2f}"
    return str(value)


def append_row(table: str, columns: list[str], row: dict[str, Any], *, doc: Path = DOC) -> None:
    """Append ``row`` to the table after ``<!-- bench:table -->`` (created when missing)."""
    marker = f"<!-- bench:{table} -->"
    header = "| " + " | ".join(columns) + " |"
    rule = "|" + "|".join("---" for _ in columns) + "|"
    line = "| " + " | ".join(_fmt(row.get(col)) for col in columns) + " |"
    text = doc.read_text() if doc.exists() else "# Performance\n"
    lines = text.splitlines()
    if marker not in text:
        lines += ["", f"### Raw results: {table}", "", marker, header, rule, line]
    else:
        at = lines.index(marker)
        end = at + 1
        while end < len(lines) and lines[end].startswith("|"):
            end += 1
        if end == at + 1:
            lines[at + 1 : at + 1] = [header, rule]
            end += 2
        lines.insert(end, line)
    doc.write_text("\n".join(lines) + "\n")


def today() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M")
