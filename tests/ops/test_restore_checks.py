"""``restore`` judges the whole backup before it touches the database: a file that is not a
backup, a damaged one, one from a newer version, one missing part of the schema or holding
no family is refused with a clear message (exit 1, no traceback), and the family's data
stays as it was even with ``--force``. Real CLI in a subprocess, against a running server's
database, on SQLite and PostgreSQL."""

from __future__ import annotations

import gzip
import io
import json
import shutil
import sqlite3
import tarfile
from pathlib import Path
from typing import Any

from tests.ops.test_backup import cli, everything, populate
from tests.support import Family


def archive_of(path: Path, members: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w:gz") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


def manifest(form: str, database: str, revision: str | None, **extra: Any) -> bytes:
    return json.dumps(
        {
            "format": "inner-circle-backup",
            "version": 1,
            "appVersion": "0",
            "createdAt": "2026-11-26T00:00:00Z",
            "database": database,
            "form": form,
            "revision": revision,
            **extra,
        }
    ).encode()


def members_of(archive: Path) -> dict[str, bytes]:
    with tarfile.open(archive, "r:gz") as opened:
        return {m.name: opened.extractfile(m).read() for m in opened.getmembers()}  # type: ignore[union-attr]


async def test_restore_refuses_what_is_not_a_family_backup(
    family: Family,
    database_url: str,
    fresh_database: str,
    sqlite_template: Path,
    tmp_path: Path,
) -> None:
    members = await populate(family)
    before = await everything(members["anna"])
    kind = "sqlite" if database_url.startswith("sqlite") else "postgresql"
    real = tmp_path / "real.tar.gz"
    made = await cli(
        "backup", "-o", str(real), "--logical", database_url=database_url, data_dir=tmp_path
    )
    assert made.returncode == 0, made.stderr
    real_rows = json.loads(members_of(real)["database.json"])
    head = json.loads(members_of(real)["manifest.json"])["revision"]

    # A server that was set up but never had a member, backed up the ordinary way.
    empty_dir = tmp_path / "empty"
    assert (await cli("migrate", database_url=fresh_database, data_dir=empty_dir)).returncode == 0
    empty = tmp_path / "empty.tar.gz"
    made = await cli("backup", "-o", str(empty), database_url=fresh_database, data_dir=empty_dir)
    assert made.returncode == 0, made.stderr

    no_messages_table = tmp_path / "no-messages.sqlite3"
    shutil.copyfile(sqlite_template, no_messages_table)
    with sqlite3.connect(no_messages_table) as connection:
        connection.execute("DROP TABLE messages")
    no_members = {table: [] for table in real_rows}
    junk = tmp_path / "junk"
    cases: dict[str, tuple[Path, str]] = {
        "empty database": (empty, "holds no members"),
        "not gzip": (junk.with_suffix(".1"), "is not an Inner Circle backup"),
        "gzip, not tar": (junk.with_suffix(".2"), "is not an Inner Circle backup"),
        "truncated": (junk.with_suffix(".3"), "damaged"),
        "no manifest": (
            archive_of(junk.with_suffix(".4"), {"database.json": b"{}"}),
            "is not an Inner Circle backup",
        ),
        "manifest not JSON": (
            archive_of(junk.with_suffix(".5"), {"manifest.json": b"{oops"}),
            "is not an Inner Circle backup",
        ),
        "unknown form": (
            archive_of(junk.with_suffix(".6"), {"manifest.json": manifest("zip", kind, head)}),
            "unknown kind of database",
        ),
        "newer format": (
            archive_of(
                junk.with_suffix(".7"),
                {"manifest.json": manifest("logical", kind, head, version=2)},
            ),
            "newer than this version",
        ),
        "no database": (
            archive_of(junk.with_suffix(".8"), {"manifest.json": manifest("logical", kind, head)}),
            "has no database",
        ),
        "newer schema": (
            archive_of(
                junk.with_suffix(".9"),
                {
                    "manifest.json": manifest("logical", kind, "9999"),
                    "database.json": json.dumps(real_rows).encode(),
                },
            ),
            "unknown to this version of Inner Circle",
        ),
        "no schema": (
            archive_of(
                junk.with_suffix(".10"),
                {"manifest.json": manifest("logical", kind, None), "database.json": b"{}"},
            ),
            "has no schema",
        ),
        "rows of no tables": (
            archive_of(
                junk.with_suffix(".11"),
                {"manifest.json": manifest("logical", kind, head), "database.json": b"{}"},
            ),
            "lacks part of the schema",
        ),
        "no members": (
            archive_of(
                junk.with_suffix(".12"),
                {
                    "manifest.json": manifest("logical", kind, head),
                    "database.json": json.dumps(no_members).encode(),
                },
            ),
            "holds no members",
        ),
        "rows not JSON": (
            archive_of(
                junk.with_suffix(".13"),
                {"manifest.json": manifest("logical", kind, head), "database.json": b"[{"},
            ),
            "not valid JSON",
        ),
        "SQLite file is junk": (
            archive_of(
                junk.with_suffix(".14"),
                {
                    "manifest.json": manifest("sqlite", "sqlite", head),
                    "database.sqlite3": b"junk" * 1000,
                },
            ),
            "not SQLite",
        ),
        "SQLite without a table": (
            archive_of(
                junk.with_suffix(".15"),
                {
                    "manifest.json": manifest("sqlite", "sqlite", head),
                    "database.sqlite3": no_messages_table.read_bytes(),
                },
            ),
            "lacks part of the schema of revision",
        ),
        "pg_dump is junk": (
            archive_of(
                junk.with_suffix(".16"),
                {
                    "manifest.json": manifest("pg_dump", "postgresql", head),
                    "database.pgdump": b"junk" * 1000,
                },
            ),
            "the backup's dump cannot be read",
        ),
    }
    junk.with_suffix(".1").write_bytes(b"not a tar file")
    junk.with_suffix(".2").write_bytes(gzip.compress(b"hello"))
    junk.with_suffix(".3").write_bytes(real.read_bytes()[: real.stat().st_size // 2])

    target = {"database_url": database_url, "data_dir": tmp_path}
    for name, (archive, reason) in cases.items():
        refused = await cli("restore", str(archive), "--force", **target)
        assert refused.returncode == 1, (name, refused.stdout, refused.stderr)
        assert "Traceback" not in refused.stderr, (name, refused.stderr)
        assert reason in refused.stderr, (name, refused.stderr)
        assert "nothing was changed" in refused.stderr, (name, refused.stderr)
    missing = await cli("restore", str(tmp_path / "nowhere.tar.gz"), **target)
    assert missing.returncode == 1 and "no such file" in missing.stderr

    # The family's data is untouched, and the server still serves it.
    assert await everything(members["anna"]) == before
