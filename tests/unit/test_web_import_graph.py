"""The web client's modules import each other in no cycle (web/scripts/check-cycles.mjs,
also run by ``npm run check`` and scripts/check)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support import need_service

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "web"
SCRIPT = WEB / "scripts" / "check-cycles.mjs"


def _check(*args: str) -> subprocess.CompletedProcess[str]:
    node = shutil.which("node")
    if node is None or not (WEB / "node_modules" / "vite").is_dir():
        need_service("node and web/node_modules (scripts/install) for the import-cycle check")
    return subprocess.run(
        [str(node), str(SCRIPT), *args], cwd=WEB, capture_output=True, text=True, check=False
    )


def test_web_src_has_no_import_cycle() -> None:
    done = _check()
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("type_only", [False, True])
def test_a_cycle_fails_the_check(tmp_path: Path, type_only: bool) -> None:
    kind = "import type" if type_only else "import"
    (tmp_path / "a.ts").write_text(f"{kind} {{ b }} from './b';\nexport const a = 1;\n")
    (tmp_path / "b.ts").write_text("import { c } from './lib/c';\nexport const b = c;\n")
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "c.ts").write_text("export { a as c } from '../a';\n")
    (tmp_path / "leaf.ts").write_text("import { a } from './a';\nexport const leaf = a;\n")
    done = _check(str(tmp_path))
    assert done.returncode == 1
    assert "a.ts → b.ts → lib/c.ts → a.ts" in done.stderr
    assert "leaf.ts" not in done.stderr  # it imports the cycle, it is not in it


def test_a_dynamic_import_counts(tmp_path: Path) -> None:
    (tmp_path / "a.ts").write_text("export const load = () => import('./b');\n")
    (tmp_path / "b.ts").write_text("import { load } from './a';\nexport const b = load;\n")
    done = _check(str(tmp_path))
    assert done.returncode == 1
    assert "a.ts" in done.stderr and "b.ts" in done.stderr
