"""Data at rest: the data folder and SQLite's files are readable by the server's user only.

They hold every message, password hashes and refresh-token hashes, so a private
folder (0700) and private files (0600) whatever the umask. SQLite creates its
``-wal`` and ``-shm`` files with the mode of the database file, so creating that
file private before SQLite first opens it covers all three; files left readable
by an earlier version are tightened when the server or a command opens them.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = [
    "PRIVATE_DIR",
    "PRIVATE_FILE",
    "private_dir",
    "private_file",
    "secure_sqlite_files",
    "sqlite_file",
]

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600
SQLITE_SUFFIXES = ("", "-wal", "-shm", "-journal")


def _tighten(path: Path, mode: int) -> None:
    try:
        current = path.stat().st_mode & 0o777
    except FileNotFoundError:
        return
    if current & 0o077:
        try:
            os.chmod(path, current & mode)
        except PermissionError:  # another user's file: SQLite's own checks will speak
            pass


def private_dir(path: Path) -> None:
    """Create ``path`` (and missing parents) if needed and make it private (0700)."""
    path.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR)
    _tighten(path, PRIVATE_DIR)


def private_file(path: Path) -> None:
    """Make an existing file private (0600); a missing one is left missing."""
    _tighten(path, PRIVATE_FILE)


def sqlite_file(url: str) -> Path | None:
    """The database file of a SQLite URL; None for another database or an in-memory one."""
    if not url.startswith("sqlite"):
        return None
    _, _, rest = url.partition(":///")
    path = rest.split("?", 1)[0]
    if not path or path == ":memory:" or path.startswith("file::memory:"):
        return None
    return Path(path)


def secure_sqlite_files(url: str) -> None:
    """Before SQLite opens ``url``: create its file private if missing (an empty file is an
    empty database to SQLite), and make the database, ``-wal`` and ``-shm`` files private."""
    path = sqlite_file(url)
    if path is None:
        return
    if not path.parent.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR)
    if not path.exists():
        # Only a missing file is opened here: closing any descriptor of a database file drops
        # every POSIX lock this process holds on it, including those of SQLite connections
        # already open in this process, and another process could then checkpoint and
        # truncate the WAL under them ("disk I/O error").
        try:
            os.close(os.open(path, os.O_RDONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE))
        except FileExistsError:
            pass
    for suffix in SQLITE_SUFFIXES:
        private_file(Path(f"{path}{suffix}"))
