"""Data at rest: the data folder and SQLite's files are private to the server's user (also
after ``restore``), and text deleted for everyone leaves the database's files, WAL included."""

from __future__ import annotations

import asyncio
import os
import stat
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

import harness
from tests.support import Family, ThreadedServer, make_settings, process_server

SQLITE_FILES = ("inner-circle.db", "inner-circle.db-wal", "inner-circle.db-shm")
SECRETS = ("jwt-secret", "vapid-private-key")


@pytest.fixture
def usual_umask() -> Iterator[None]:
    """The umask most systems give a service (022): files would be world-readable."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def assert_private(data_dir: Path, *files: str) -> None:
    assert mode(data_dir) == 0o700, oct(mode(data_dir))
    for name in files:
        assert mode(data_dir / name) == 0o600, f"{name}: {oct(mode(data_dir / name))}"


def test_data_folder_and_database_files_are_private(usual_umask: None, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    server = process_server(data_dir)
    data_dir.mkdir()
    server.start()  # a fresh install: the server creates the database and the secret
    try:
        server.register("anna", admin=True)  # a write: the WAL and its index exist now
        assert_private(data_dir, *SQLITE_FILES, *SECRETS)
        vapid = httpx.get(f"{server.url}/push/config").json()["vapidPublicKey"]
    finally:
        server.stop()

    # An install from before: everything readable by all. Starting the server tightens it.
    os.chmod(data_dir, 0o755)
    for name in ("inner-circle.db", *SECRETS):
        os.chmod(data_dir / name, 0o644)
    server.start()
    try:
        server.register("ben")
        assert_private(data_dir, *SQLITE_FILES, *SECRETS)
        # The same VAPID key after a restart: browsers' subscriptions stay valid.
        assert httpx.get(f"{server.url}/push/config").json()["vapidPublicKey"] == vapid
    finally:
        server.stop()
    archive = tmp_path / "family.tar.gz"
    made = server.cli("backup", "--output", str(archive))
    assert made.returncode == 0, made.stderr

    for form in ("native", "logical"):
        restored_dir = tmp_path / f"restored-{form}"
        restored_env = {**server.env, "INNER_CIRCLE_DATA_DIR": str(restored_dir)}
        if form == "logical":  # a data folder the operator made by hand, world-readable
            restored_dir.mkdir(mode=0o755)
            archive = tmp_path / "logical.tar.gz"
            made = server.cli("backup", "--logical", "--output", str(archive))
            assert made.returncode == 0, made.stderr
        restored = harness.cli(restored_env, "restore", str(archive))
        assert restored.returncode == 0, restored.stderr
        assert_private(restored_dir, "inner-circle.db")
        for name in SQLITE_FILES[1:]:
            path = restored_dir / name
            assert not path.exists() or mode(path) == 0o600


def sqlite_bytes(database: Path) -> bytes:
    return b"".join(
        Path(f"{database}{suffix}").read_bytes()
        for suffix in ("", "-wal", "-shm")
        if Path(f"{database}{suffix}").exists()
    )


async def wait_until_gone(database: Path, text: bytes, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while text in sqlite_bytes(database):
        if time.monotonic() > deadline:
            raise AssertionError(f"{text!r} is still in the database's files")
        await asyncio.sleep(0.05)  # polling a condition, bounded by the deadline


async def test_deleted_and_edited_text_leaves_the_database_files(
    sqlite_url: str, tmp_path: Path
) -> None:
    database = Path(sqlite_url.split(":///", 1)[1])
    server = ThreadedServer(make_settings(sqlite_url, tmp_path))
    await server.start()
    family = Family(server)
    try:
        anna = await family.member("anna", admin=True)
        chat = await anna.family_chat()
        secret = "the safe code is 4-8-15-16 " + "ю" * 3000  # long: spills to overflow pages
        erased = await anna.post_message(chat.id, secret)
        typo = await anna.post_message(chat.id, "my new PIN is 93017")
        await anna.post_message(chat.id, "an ordinary message that stays")
        assert b"the safe code is 4-8-15-16" in sqlite_bytes(database)
        assert b"my new PIN is 93017" in sqlite_bytes(database)

        await anna.delete_message(chat.id, erased.id)
        await anna.edit_message(chat.id, typo.id, "never mind")
        await wait_until_gone(database, b"the safe code is 4-8-15-16")
        await wait_until_gone(database, "ю".encode() * 50)
        await wait_until_gone(database, b"my new PIN is 93017")
        # The server keeps working, and what was not erased is still there.
        assert b"an ordinary message that stays" in sqlite_bytes(database)
        history = await anna.history(chat.id)
        assert [m.content for m in history] == ["", "never mind", "an ordinary message that stays"]
    finally:
        await family.close()
        await server.stop()
