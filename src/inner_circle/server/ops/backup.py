"""Backups and restores of the configured database, for the CLI and for tests.

A backup is one ``.tar.gz`` file holding ``manifest.json`` and the database in one
of three forms:

* ``sqlite``: a consistent copy made with SQLite's online backup API, safe while
  the server runs;
* ``pg_dump``: PostgreSQL's own custom-format dump (when ``pg_dump`` is installed);
* ``logical``: every row as JSON (``logical=True``, or PostgreSQL without ``pg_dump``);
  it restores into either database, so it also moves a family from SQLite to
  PostgreSQL.

:func:`restore_backup` checks the whole file first (``backup_check.py``), then fills
an empty database (the configured one) and brings it to the newest schema; it refuses
a database that holds data unless ``force``. Stop the server first. Backups hold
password hashes and messages: keep them private. Every refusal is an :class:`OpsError`
whose message is for the operator; nothing here prints or exits.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from inner_circle import __version__
from inner_circle.server.ops.backup_check import FORMAT, MEMBERS, BackupRefused, check_backup
from inner_circle.server.settings import Settings

__all__ = [
    "BackupMade",
    "OpsError",
    "Restored",
    "make_backup",
    "new_epoch",
    "restore_backup",
    "with_engine",
]

SQLITE_MEMBER = MEMBERS["sqlite"]
PG_MEMBER = MEMBERS["pg_dump"]
LOGICAL_MEMBER = MEMBERS["logical"]


class OpsError(Exception):
    """An operation refused or failed; the message says why, for the operator."""


@dataclass(frozen=True)
class BackupMade:
    database: str
    form: str
    revision: str | None
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Restored:
    form: str
    created_at: str | None
    revision: str
    database: str


def _sqlite_path(url: str) -> Path:
    return Path(url.split(":///", 1)[1])


def _pg_env(url: str) -> dict[str, str]:
    """libpq's variables for ``url``: the password never appears on a command line."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    env = {**os.environ}
    for key, value in (
        ("PGHOST", parsed.host),
        ("PGPORT", parsed.port),
        ("PGUSER", parsed.username),
        ("PGPASSWORD", parsed.password),
        ("PGDATABASE", parsed.database),
    ):
        if value is not None:
            env[key] = str(value)
    return env


def _run_tool(args: list[str], url: str) -> None:
    result = subprocess.run(args, env=_pg_env(url), capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise OpsError(f"{args[0]} failed: {result.stderr.strip()[-2000:]}")


async def with_engine(url: str, work: Any) -> Any:
    from inner_circle.server.db.engine import create_engine

    engine = create_engine(url, pool_size=1)
    try:
        async with engine.begin() as connection:
            return await work(connection)
    finally:
        await engine.dispose()


async def _revision(connection: Any) -> str | None:
    from sqlalchemy import text

    try:
        return (await connection.execute(text("SELECT version_num FROM alembic_version"))).scalar()
    except Exception:  # no schema yet
        return None


async def _holds_data(connection: Any) -> bool:
    from sqlalchemy import inspect, text

    names = await connection.run_sync(lambda sync: inspect(sync).get_table_names())
    for name in names:
        if name == "alembic_version":
            continue
        if (await connection.execute(text(f'SELECT 1 FROM "{name}" LIMIT 1'))).first():
            return True
    return False


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


async def _dump_rows(connection: Any) -> dict[str, list[dict[str, Any]]]:
    from sqlalchemy import select

    from inner_circle.server.db.models import Base

    tables: dict[str, list[dict[str, Any]]] = {}
    for table in Base.metadata.sorted_tables:
        order = list(table.primary_key.columns)
        result = await connection.execute(select(table).order_by(*order))
        tables[table.name] = [
            {key: _json_value(value) for key, value in row._mapping.items()} for row in result
        ]
    return tables


def _python_value(column: Any, value: Any) -> Any:
    if value is None:
        return None
    kind: Any = None
    for candidate in (column.type, getattr(column.type, "impl", None)):
        try:
            kind = candidate.python_type
        except (NotImplementedError, AttributeError):
            continue
        if kind is not object:  # a TypeDecorator may not say; its impl does
            break
    if kind is datetime and isinstance(value, str):
        return datetime.fromisoformat(value)
    if kind is uuid.UUID and isinstance(value, str):
        return uuid.UUID(value)
    return value


async def _load_rows(connection: Any, tables: dict[str, list[dict[str, Any]]]) -> None:
    from sqlalchemy import text

    from inner_circle.server.db.models import Base

    ordered = Base.metadata.sorted_tables
    for table in reversed(ordered):  # anything the migrations themselves inserted
        await connection.execute(table.delete())
    for table in ordered:
        rows = [
            {key: _python_value(table.c[key], value) for key, value in row.items()}
            for row in tables.get(table.name, [])
        ]
        if rows:
            await connection.execute(table.insert(), rows)
    if connection.dialect.name == "postgresql":
        for table in ordered:  # serial ids continue after the restored rows
            for column in table.primary_key.columns:
                if column.autoincrement is True or (
                    column.autoincrement == "auto" and column.type.python_type is int
                ):
                    await connection.execute(
                        text(
                            f"SELECT setval(pg_get_serial_sequence('{table.name}', '{column.name}'),"
                            f' COALESCE((SELECT MAX("{column.name}") FROM "{table.name}"), 0) + 1,'
                            " false)"
                        )
                    )


def make_backup(settings: Settings, output: Path, *, logical: bool = False) -> BackupMade:
    """Back up the configured database to ``output`` (written 0600, atomically) while the
    server keeps running. Raises OpsError."""
    url = settings.resolved_database_url
    notes: list[str] = []
    kind = "sqlite" if settings.is_sqlite else "postgresql"
    if kind == "sqlite" and not _sqlite_path(url).exists():
        raise OpsError(f"no database at {_sqlite_path(url)}")
    if kind == "postgresql" and not logical and shutil.which("pg_dump") is None:
        notes.append("pg_dump not found: writing a logical (JSON) backup instead")
        logical = True
    with tempfile.TemporaryDirectory() as scratch:
        payload = Path(scratch) / "payload"
        if logical:
            form, member = "logical", LOGICAL_MEMBER

            async def dump(connection: Any) -> tuple[str | None, Any]:
                return await _revision(connection), await _dump_rows(connection)

            revision, rows = asyncio.run(with_engine(url, dump))
            payload.write_text(json.dumps(rows, ensure_ascii=False))
        elif kind == "sqlite":
            form, member = "sqlite", SQLITE_MEMBER
            source = sqlite3.connect(f"file:{_sqlite_path(url)}?mode=ro", uri=True)
            target = sqlite3.connect(payload)
            try:
                with target:
                    source.backup(target)  # a consistent snapshot, even mid-write
                revision = target.execute("SELECT version_num FROM alembic_version").fetchone()[0]
            finally:
                source.close()
                target.close()
        else:
            form, member = "pg_dump", PG_MEMBER
            revision = asyncio.run(with_engine(url, _revision))
            _run_tool(
                ["pg_dump", "--format=custom", "--no-owner", "--no-privileges", "-f", str(payload)],
                url,
            )
        manifest = {
            "format": FORMAT,
            "version": 1,
            "appVersion": __version__,
            "createdAt": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
            "database": kind,
            "form": form,
            "revision": revision,
            "media": _media_form(settings),
        }
        output.parent.mkdir(parents=True, exist_ok=True)
        partial = output.with_name(output.name + ".partial")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle, tarfile.open(fileobj=handle, mode="w:gz") as archive:
            data = json.dumps(manifest, indent=2).encode()
            info = tarfile.TarInfo("manifest.json")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
            archive.add(payload, arcname=member)
            if manifest["media"] == "included":
                # After the database snapshot: files are immutable and named by content,
                # so every file a restored row names is here (docs/media.md: backups).
                archive.add(
                    settings.data_dir / MEDIA_FOLDER, arcname=MEDIA_FOLDER, filter=_no_partial
                )
        partial.replace(output)
    return BackupMade(kind, form, revision, notes)


def restore_backup(settings: Settings, backup_file: Path, *, force: bool = False) -> Restored:
    """Restore ``backup_file`` into the configured database (stop the server first).

    The whole file is checked first (``backup_check.py``): a file that is not a backup, is
    damaged, comes from a newer version or holds no family is refused, and the database is
    left as it was, even with ``force``. Raises OpsError.
    """
    from sqlalchemy.exc import SQLAlchemyError

    url = settings.resolved_database_url
    target = "sqlite" if settings.is_sqlite else "postgresql"
    with tempfile.TemporaryDirectory() as scratch:
        try:
            backup = check_backup(backup_file, Path(scratch))
        except BackupRefused as exc:
            raise OpsError(f"{exc}; nothing was changed") from exc
        if backup.form != "logical" and target != backup.database:
            raise OpsError(
                f"this {backup.form} backup restores into {backup.database} only; "
                "make a --logical backup to move between databases"
            )
        try:
            _restore_checked(backup, settings, url, target, force)
            if backup.manifest.get("media") == "included":
                _restore_media(backup_file, settings)
        except (SQLAlchemyError, OSError, sqlite3.Error, tarfile.TarError) as exc:
            raise OpsError(f"the restore failed: {exc}") from exc
    return Restored(
        form=backup.form,
        created_at=backup.manifest.get("createdAt"),
        revision=backup.revision,
        database=target,
    )


MEDIA_FOLDER = "media"


def _media_form(settings: Settings) -> str:
    """Whether the backup carries the media files: the data folder's store is included; an
    S3 store is backed up by the store's own means (versioning, replication)."""
    if settings.media_backend != "local":
        return "external"
    return "included" if (settings.data_dir / MEDIA_FOLDER).is_dir() else "none"


def _no_partial(info: tarfile.TarInfo) -> tarfile.TarInfo | None:
    return None if info.name.endswith(".partial") else info


def _restore_media(backup_file: Path, settings: Settings) -> None:
    """Put the backup's media files into the data folder (only ``media/…`` members)."""
    settings.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    with tarfile.open(backup_file, "r:gz") as archive:
        for info in archive:
            if info.name.startswith(MEDIA_FOLDER + "/") and (info.isfile() or info.isdir()):
                archive.extract(info, settings.data_dir, filter="data")


def _restore_checked(backup: Any, settings: Any, url: str, target: str, force: bool) -> None:
    from inner_circle.server.db import migrate

    _make_room(url, target, force)
    if target == "sqlite":
        _private_folder(settings, _sqlite_path(url))
    payload = backup.payload
    if backup.form == "sqlite":
        from inner_circle.server.db.files import PRIVATE_FILE

        path = _sqlite_path(url)
        staged = path.with_name(path.name + ".restoring")
        fd = os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE)
        with os.fdopen(fd, "wb") as out, payload.open("rb") as source:
            shutil.copyfileobj(source, out)
        os.chmod(staged, PRIVATE_FILE)  # also when a stale staged file was there
        staged.replace(path)
    elif backup.form == "pg_dump":
        from sqlalchemy.engine import make_url

        database = str(make_url(url).database)
        restore_args = ["--no-owner", "--no-privileges", "--exit-on-error", "-d", database]
        _run_tool(["pg_restore", *restore_args, str(payload)], url)
    else:
        migrate.upgrade(url, backup.revision)
        rows = json.loads(payload.read_text())
        asyncio.run(with_engine(url, lambda connection: _load_rows(connection, rows)))
    migrate.upgrade(url)  # a backup from an older version gets the newest schema
    asyncio.run(with_engine(url, new_epoch))


async def new_epoch(connection: Any) -> str:
    """Give the database a new epoch: sync cursors issued before (by the backed-up server,
    or by this database before the restore) now read as foreign, and clients start fresh
    instead of missing what changed (core/cursors.py)."""
    import secrets

    from sqlalchemy import delete, insert

    from inner_circle.server.db.models import ServerState
    from inner_circle.server.repositories.sync import EPOCH

    epoch = secrets.token_hex(4)
    await connection.execute(delete(ServerState).where(ServerState.key == EPOCH))
    await connection.execute(insert(ServerState).values(key=EPOCH, value=epoch))
    return epoch


def _private_folder(settings: Any, database: Path) -> None:
    """The data folder the restored database goes into is private (0700), as ``serve``
    makes it; a folder elsewhere that the operator chose is left as it is."""
    from inner_circle.server.db.files import PRIVATE_DIR, private_dir

    if not database.parent.exists():
        database.parent.mkdir(parents=True, mode=PRIVATE_DIR)
    if database.parent.resolve() == settings.data_dir.resolve():
        private_dir(settings.data_dir)


def _make_room(url: str, target: str, force: bool) -> None:
    """Refuse a database holding data unless ``force``; with it, empty the database."""
    if target == "sqlite":
        path = _sqlite_path(url)
        if not path.exists():
            return
        holds = asyncio.run(with_engine(url, _holds_data))
        if holds and not force:
            raise OpsError(
                f"{path} already holds data; stop the server and add --force to replace it"
            )
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    holds = asyncio.run(with_engine(url, _holds_data))
    if holds and not force:
        raise OpsError(
            "the database already holds data; stop the server and add --force to replace it"
        )

    async def wipe(connection: Any) -> None:
        from sqlalchemy import text

        await connection.execute(text("DROP SCHEMA public CASCADE"))
        await connection.execute(text("CREATE SCHEMA public"))

    asyncio.run(with_engine(url, wipe))
