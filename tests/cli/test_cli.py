"""The operator's CLI, run as a real process against a real data folder."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import httpx
import pytest

import harness


def run(
    data_dir: Path, *args: str, stdin: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    environment = {
        key: value for key, value in os.environ.items() if key != "INNER_CIRCLE_DATABASE_URL"
    }
    environment.update(
        {
            "INNER_CIRCLE_ARGON2_MEMORY_KIB": "1024",
            "INNER_CIRCLE_ARGON2_TIME_COST": "1",
            **(env or {}),
        }
    )
    return harness.cli(environment, *args, "--data-dir", str(data_dir), input=stdin)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    path = tmp_path / "data"
    result = run(path, "migrate")
    assert result.returncode == 0, result.stderr
    assert "up to date" in result.stdout
    return path


def test_invite_create_list_revoke(data_dir: Path) -> None:
    quiet = run(data_dir, "invite", "create", "--quiet", "--uses", "3", "--expires", "7d")
    assert quiet.returncode == 0, quiet.stderr
    code = quiet.stdout.strip()
    assert len(code) == 14 and code.count("-") == 2
    loud = run(data_dir, "invite", "create", "--admin")
    assert "Created admin invitation" in loud.stdout
    listed = json.loads(run(data_dir, "invite", "list", "--json").stdout)
    mine = next(i for i in listed if i["code"] == code)
    assert mine["usageLimit"] == 3 and mine["status"] == "active" and mine["expiresAt"]
    revoked = run(data_dir, "invite", "revoke", code)
    assert revoked.returncode == 0 and code in revoked.stdout
    assert "revoked" in run(data_dir, "invite", "list").stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("invite", "create", "--expires", "soon"), "30m, 12h, 7d"),
        (("invite", "create", "--uses", "0"), "--uses"),
        (("invite", "revoke", "NOPE-NOPE-NOPE"), "not found"),
        (("user", "deactivate", "ghost"), "No member named"),
    ],
)
def test_bad_cli_input_says_what_to_fix(
    data_dir: Path, args: tuple[str, ...], message: str
) -> None:
    result = run(data_dir, *args)
    assert result.returncode != 0
    assert message.lower() in (result.stderr + result.stdout).lower()


def test_bad_configuration_is_reported(tmp_path: Path) -> None:
    result = run(tmp_path, "migrate", env={"INNER_CIRCLE_DATABASE_URL": "mysql://x@y/z"})
    assert result.returncode == 2
    assert "unsupported database URL" in result.stderr
    weak = run(tmp_path, "migrate", env={"INNER_CIRCLE_JWT_SECRET": "changethis"})
    assert weak.returncode == 2 and "JWT secret" in weak.stderr


def test_commands_before_migrate_explain(tmp_path: Path) -> None:
    result = run(tmp_path / "empty", "user", "list")
    assert result.returncode == 1
    assert "inner-circle migrate" in result.stderr


def test_user_commands_against_a_running_server(live_server) -> None:  # type: ignore[no-untyped-def]
    live_server.register("gran", admin=True)
    live_server.register("kid")
    data = live_server.data_dir
    listed = json.loads(live_server.cli("user", "list", "--json").stdout)
    assert {u["username"]: u["isAdmin"] for u in listed if u["username"] in {"gran", "kid"}} == {
        "gran": True,
        "kid": False,
    }
    assert "passwordHash" not in json.dumps(listed)
    assert live_server.cli("user", "set-admin", "kid").returncode == 0
    assert "no longer an admin" in live_server.cli("user", "set-admin", "kid", "--revoke").stdout
    reset = live_server.cli(
        "user", "reset-password", "kid", "--password-stdin", input="brand-new-pw\n"
    )
    assert reset.returncode == 0, reset.stderr
    login = httpx.post(
        f"{live_server.url}/auth/login", json={"username": "kid", "password": "brand-new-pw"}
    )
    assert login.status_code == 200
    short = live_server.cli("user", "reset-password", "kid", "--password-stdin", input="123\n")
    assert short.returncode == 1 and "6 to 128" in short.stderr
    assert live_server.cli("user", "deactivate", "kid").returncode == 0
    refused = httpx.post(
        f"{live_server.url}/auth/login", json={"username": "kid", "password": "brand-new-pw"}
    )
    assert refused.status_code == 403
    assert data.exists()


def test_first_start_prints_one_admin_invitation(tmp_path: Path) -> None:
    from inner_circle.server.bootstrap import prepare
    from inner_circle.server.settings import Settings

    settings = Settings(data_dir=tmp_path / "fresh", argon2_memory_kib=1024, argon2_time_cost=1)
    code = prepare(settings)
    assert code is not None
    assert prepare(settings) == code  # the same code until someone uses it
    assert (tmp_path / "fresh" / "inner-circle.db").exists()
    assert (tmp_path / "fresh" / "jwt-secret").exists()
    listed = json.loads(run(tmp_path / "fresh", "invite", "list", "--json").stdout)
    assert [i["isAdmin"] for i in listed] == [True]
