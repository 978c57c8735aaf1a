"""Schemathesis against the live server's /openapi.json: whatever it sends, no 5xx."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

from tests.support import Family

MAX_EXAMPLES = 5


async def test_openapi_fuzzing_finds_no_server_error(family: Family, tmp_path: Path) -> None:
    fuzzer = await family.member("fuzzer")  # a plain member: it cannot end its own session
    other = await family.member("other")
    chat = await fuzzer.private_chat(other.user_id)
    await other.post_message(chat.id, "something to find")
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "run",
        f"{family.url}/openapi.json",
        "--header",
        f"Authorization: Bearer {fuzzer.access_token}",
        "--checks",
        "not_a_server_error",
        "--phases",
        "coverage,fuzzing",
        "--max-examples",
        str(MAX_EXAMPLES),
        "--max-time",
        "20",
        "--seed",
        "20261124",
        "--workers",
        "1",  # CPython 3.11's ast.parse is not thread-safe; hypothesis calls it
        "--request-timeout",
        "10",
        "--report-dir",
        str(tmp_path),
    ]
    env = {"SCHEMATHESIS_HOOKS": "", "HYPOTHESIS_STORAGE_DIRECTORY": str(tmp_path / "hyp")}
    result = await asyncio.to_thread(
        subprocess.run,
        command,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**__import__("os").environ, **env},
        cwd=tmp_path,
    )
    summary = result.stdout[-6000:]
    assert result.returncode == 0, summary
    assert "Server error" not in result.stdout, summary
    # The fuzzed server still answers its members.
    assert (await other.history(chat.id))[0].content == "something to find"
