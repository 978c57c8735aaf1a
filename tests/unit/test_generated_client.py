"""The web client's wire types are generated from the protocol and committed
(web/src/api/generated/): they must be what scripts/gen-client writes today."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

from inner_circle.protocol.events import ClientEvent
from inner_circle.server.socket.visibility import VisibilityNamespace

ROOT = Path(__file__).resolve().parents[2]


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_client", ROOT / "scripts" / "gen_client.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generated_web_types_are_current() -> None:
    stale = [
        str(path.relative_to(ROOT))
        for path, text in _generator().generated().items()
        if not path.exists() or path.read_text(encoding="utf-8") != text
    ]
    assert not stale, f"run scripts/gen-client and commit: {stale}"


def test_check_mode_fails_on_a_stale_file(tmp_path: Path) -> None:
    gen = _generator()
    gen.OUT = tmp_path  # a folder with nothing generated in it yet
    assert gen.main(["--check"]) == 1
    assert not list(tmp_path.iterdir())  # --check writes nothing
    assert gen.main([]) == 0
    assert gen.main(["--check"]) == 0
    (tmp_path / "events.ts").write_text("// edited by hand\n", encoding="utf-8")
    assert gen.main(["--check"]) == 1


def test_the_script_runs_as_scripts_check_calls_it() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "gen_client.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def test_client_event_names_are_the_socket_handlers() -> None:
    """Every ``on_<event>`` the server handles is named in ``ClientEvent`` and nothing else."""
    handled = {
        name.removeprefix("on_")
        for name in dir(VisibilityNamespace)  # the namespace the app registers
        if name.startswith("on_") and name not in ("on_connect", "on_disconnect")
    }
    named = {value for key, value in vars(ClientEvent).items() if key.isupper()}
    assert named == handled
