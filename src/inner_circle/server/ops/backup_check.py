"""What a restore checks before it touches the configured database.

A backup file is read and judged whole first: that it is an Inner Circle backup
(a gzip'd tar with our manifest), that its database is intact, that its schema
revision is one this version knows (not one from a newer version), that it has
every table that revision has, and that it holds a family (at least one member,
and the family chat). Only then may ``restore`` empty the target database, so a
wrong or damaged file can never replace a family's data, even with ``--force``.
Every refusal is a :class:`BackupRefused` with a message for the operator.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import tarfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["BackupRefused", "CheckedBackup", "check_backup"]

FORMAT = "inner-circle-backup"
FORMAT_VERSION = 1
MEMBERS = {"sqlite": "database.sqlite3", "pg_dump": "database.pgdump", "logical": "database.json"}
DATABASES = {"sqlite", "postgresql"}


class BackupRefused(Exception):
    """The file cannot be restored; the message says why, for the operator."""


@dataclass(frozen=True)
class CheckedBackup:
    manifest: dict[str, Any]
    form: str
    database: str
    revision: str
    payload: Path


def check_backup(backup_file: Path, scratch: Path) -> CheckedBackup:
    """Read ``backup_file`` into ``scratch`` and check it whole; raises BackupRefused."""
    if not backup_file.is_file():
        raise BackupRefused(f"{backup_file}: no such file")
    not_ours = f"{backup_file} is not an Inner Circle backup"
    try:
        with tarfile.open(backup_file, "r:gz") as archive:
            manifest = _manifest(archive, not_ours)
            form = manifest["form"]
            try:
                archive.extract(MEMBERS[form], scratch, filter="data")
            except KeyError as exc:
                raise BackupRefused(f"{backup_file} has no database ({MEMBERS[form]})") from exc
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        if isinstance(exc, FileNotFoundError | PermissionError):
            raise BackupRefused(f"{backup_file}: {exc.strerror}") from exc
        raise BackupRefused(f"{not_ours}, or it is damaged ({exc})") from exc
    payload = scratch / MEMBERS[form]
    expected = _schema_at(manifest.get("revision"), scratch, form)
    if form == "sqlite":
        revision = _check_sqlite(payload, expected)
    elif form == "pg_dump":
        revision = _check_pg_dump(payload, expected)
    else:
        revision = _check_logical(payload, expected)
    return CheckedBackup(manifest, form, manifest["database"], revision, payload)


def _manifest(archive: tarfile.TarFile, not_ours: str) -> dict[str, Any]:
    try:
        handle = archive.extractfile("manifest.json")
        if handle is None:
            raise BackupRefused(not_ours)
        manifest = json.load(handle)
    except (KeyError, ValueError) as exc:
        raise BackupRefused(not_ours) from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupRefused(not_ours)
    version = manifest.get("version")
    if not isinstance(version, int) or version > FORMAT_VERSION or version < 1:
        raise BackupRefused(
            f"the backup's format (version {version!r}) is newer than this version of "
            "Inner Circle reads; restore it with the version that made it"
        )
    if manifest.get("form") not in MEMBERS or manifest.get("database") not in DATABASES:
        raise BackupRefused(
            f"the backup's manifest names an unknown kind of database "
            f"({manifest.get('form')!r} of {manifest.get('database')!r})"
        )
    revision = manifest.get("revision")
    if revision is not None and not isinstance(revision, str):
        raise BackupRefused("the backup's manifest has no valid schema revision")
    return manifest


@dataclass(frozen=True)
class _Schema:
    revision: str
    tables: dict[str, set[str]]  # table name -> column names


def _known_revisions() -> tuple[set[str], str]:
    from alembic.script import ScriptDirectory

    from inner_circle.server.db import migrate

    script = ScriptDirectory.from_config(migrate.alembic_config("sqlite://"))
    return {r.revision for r in script.walk_revisions()}, migrate.head_revision()


def _require_known(revision: str | None) -> str:
    known, head = _known_revisions()
    if revision is None:
        raise BackupRefused("the backup's database has no schema (it was never set up)")
    if revision not in known:
        raise BackupRefused(
            f"the backup's schema (revision {revision}) is unknown to this version of "
            f"Inner Circle (newest: {head}); it was made by a newer version: upgrade first"
        )
    return revision


def _schema_at(revision: str | None, scratch: Path, form: str) -> _Schema | None:
    """Tables and columns a database at ``revision`` has (migrated in ``scratch``).

    For a native SQLite backup the revision is read from the database itself, later."""
    if form == "sqlite" and revision is None:
        return None
    return _build_schema(_require_known(revision), scratch)


def _build_schema(revision: str, scratch: Path) -> _Schema:
    from inner_circle.server.db import migrate

    model = scratch / "expected-schema.db"
    model.unlink(missing_ok=True)
    migrate.upgrade(f"sqlite+aiosqlite:///{model}", revision)
    connection = sqlite3.connect(model)
    try:
        tables = _sqlite_tables(connection)
    finally:
        connection.close()
    tables.pop("alembic_version", None)
    return _Schema(revision, tables)


def _sqlite_tables(connection: sqlite3.Connection) -> dict[str, set[str]]:
    """The tables that hold data: not SQLite's own, and not a full-text index (the FTS5
    table of search and its shadow tables), which is rebuilt from the rows it indexes."""
    names = [
        row[1]
        for row in connection.execute("PRAGMA main.table_list")
        if row[2] == "table" and not row[1].startswith("sqlite_")
    ]
    return {
        name: {row[1] for row in connection.execute(f'PRAGMA table_info("{name}")')}
        for name in names
    }


def _missing(expected: _Schema, present: dict[str, set[str]]) -> list[str]:
    missing = []
    for table, columns in sorted(expected.tables.items()):
        if table not in present:
            missing.append(table)
        elif columns - present[table]:
            missing.extend(f"{table}.{c}" for c in sorted(columns - present[table]))
    return missing


def _refuse_incomplete(expected: _Schema, present: dict[str, set[str]]) -> None:
    missing = _missing(expected, present)
    if missing:
        shown = ", ".join(missing[:8]) + (" ..." if len(missing) > 8 else "")
        raise BackupRefused(
            f"the backup's database lacks part of the schema of revision "
            f"{expected.revision}: {shown}"
        )


def _refuse_empty(members: int, family_chats: int | None) -> None:
    if members == 0:
        raise BackupRefused("the backup's database holds no members: nothing to restore")
    if family_chats == 0:
        raise BackupRefused("the backup's database has no family chat")


# --- the three forms -----------------------------------------------------------------


def _check_sqlite(payload: Path, expected: _Schema | None) -> str:
    try:
        connection = sqlite3.connect(f"file:{payload}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise BackupRefused(f"the backup's database cannot be opened ({exc})") from exc
    try:
        if connection.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            raise BackupRefused("the backup's database is damaged")
        present = _sqlite_tables(connection)
        revision = None
        if "alembic_version" in present:
            row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
            revision = row[0] if row else None
        revision = _require_known(revision)
        if expected is None or expected.revision != revision:
            expected = _build_schema(revision, payload.parent)
        _refuse_incomplete(expected, present)
        members = connection.execute("SELECT count(*) FROM users").fetchone()[0]
        family = None
        if "type" in present["chats"]:
            family = connection.execute(
                "SELECT count(*) FROM chats WHERE type = 'family'"
            ).fetchone()[0]
        _refuse_empty(members, family)
        return revision
    except sqlite3.Error as exc:
        raise BackupRefused(f"the backup's database is damaged or not SQLite ({exc})") from exc
    finally:
        connection.close()


def _check_logical(payload: Path, expected: _Schema | None) -> str:
    assert expected is not None
    try:
        rows = json.loads(payload.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise BackupRefused(f"the backup's rows are not valid JSON ({exc})") from exc
    if not isinstance(rows, dict) or not all(
        isinstance(table, list) and all(isinstance(row, dict) for row in table)
        for table in rows.values()
    ):
        raise BackupRefused("the backup's rows are not tables of rows")
    from inner_circle.server.db.models import Base

    model = {table.name: set(table.columns.keys()) for table in Base.metadata.sorted_tables}
    for name, table_rows in rows.items():
        known = expected.tables.get(name)
        if known is None or name not in model:
            raise BackupRefused(f"the backup has rows of an unknown table {name!r}")
        for row in table_rows:
            unknown = set(row) - known
            if unknown:
                raise BackupRefused(
                    f"the backup's {name} rows have unknown columns: {', '.join(sorted(unknown))}"
                )
    present = {name: expected.tables[name] for name in rows}
    _refuse_incomplete(expected, present)
    family = sum(1 for chat in rows["chats"] if chat.get("type") == "family")
    _refuse_empty(len(rows["users"]), family if "type" in expected.tables["chats"] else None)
    return expected.revision


def _check_pg_dump(payload: Path, expected: _Schema | None) -> str:
    assert expected is not None
    if shutil.which("pg_restore") is None:
        raise BackupRefused("pg_restore is not installed: it is needed to restore this backup")
    listing = _pg_restore(["--list", str(payload)], "the backup's dump cannot be read")
    present: dict[str, set[str]] = {}
    for line in listing.splitlines():
        parts = line.split()
        # "215; 1259 16385 TABLE public users postgres"
        if len(parts) >= 6 and parts[3] == "TABLE" and parts[4] == "public":
            present[parts[5]] = set()
    data = {name: _pg_copy(payload, name) for name in ("alembic_version", "users", "chats")}
    for name in list(present):
        present[name] = set(data[name][0]) if name in data else expected.tables.get(name, set())
    versions = data["alembic_version"][1]
    revision = _require_known(versions[0][0] if versions else None)
    if revision != expected.revision:
        expected = _build_schema(revision, payload.parent)
    _refuse_incomplete(expected, present)
    columns, chats = data["chats"]
    family = None
    if "type" in columns:
        family = sum(1 for chat in chats if chat[columns.index("type")] == "family")
    _refuse_empty(len(data["users"][1]), family)
    return revision


def _pg_restore(args: list[str], failure: str) -> str:
    result = subprocess.run(
        ["pg_restore", *args], capture_output=True, text=True, check=False, timeout=600
    )
    if result.returncode != 0:
        raise BackupRefused(f"{failure}: {result.stderr.strip()[-500:]}")
    return result.stdout


def _pg_copy(payload: Path, table: str) -> tuple[list[str], list[list[str]]]:
    """The columns and rows of ``table`` in the dump, read without any database."""
    script = _pg_restore(
        ["--data-only", "--schema=public", f"--table={table}", "-f", "-", str(payload)],
        "the backup's dump cannot be read",
    )
    columns: list[str] = []
    rows: list[list[str]] = []
    inside = False
    for line in script.splitlines():
        if not inside and line.startswith("COPY "):
            inside = True
            names = line[line.index("(") + 1 : line.rindex(")")]
            columns = [name.strip().strip('"') for name in names.split(",")]
        elif inside and line == "\\.":
            inside = False
        elif inside:
            rows.append(line.split("\t"))
    return columns, rows
