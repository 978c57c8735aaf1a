"""Operator commands for data: ``backup``, ``restore`` and ``export``.

A backup is one ``.tar.gz`` file holding ``manifest.json`` and the database in one
of three forms:

* ``sqlite``: a consistent copy made with SQLite's online backup API, safe while
  the server runs;
* ``pg_dump``: PostgreSQL's own custom-format dump (when ``pg_dump`` is installed);
* ``logical``: every row as JSON (``--logical``, or PostgreSQL without ``pg_dump``);
  it restores into either database, so it also moves a family from SQLite to
  PostgreSQL.

``restore`` fills an empty database (the configured one) and brings it to the
newest schema; it refuses a database that holds data unless ``--force``. Stop the
server first. Backups hold password hashes and messages: keep them private.
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
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from inner_circle import __version__
from inner_circle.cli.backup_check import FORMAT, MEMBERS
from inner_circle.cli.common import DataDir, build_settings

__all__ = ["register"]

EXPORT_FORMAT = "inner-circle-export"
SQLITE_MEMBER = MEMBERS["sqlite"]
PG_MEMBER = MEMBERS["pg_dump"]
LOGICAL_MEMBER = MEMBERS["logical"]


def _fail(message: str) -> typer.Exit:
    typer.echo(f"Error: {message}", err=True)
    return typer.Exit(1)


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
        raise _fail(f"{args[0]} failed: {result.stderr.strip()[-2000:]}")


async def _with_engine(url: str, work: Any) -> Any:
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


# --- logical dumps ------------------------------------------------------------------------


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


# --- backup -------------------------------------------------------------------------------


def backup(
    output: Annotated[Path, typer.Option("--output", "-o", help="The backup file to write")],
    data_dir: DataDir = None,
    logical: Annotated[
        bool, typer.Option("--logical", help="Rows as JSON: restores into SQLite or PostgreSQL")
    ] = False,
) -> None:
    """Back up the database to one file while the server keeps running."""
    settings = build_settings(data_dir)
    url = settings.resolved_database_url
    kind = "sqlite" if settings.is_sqlite else "postgresql"
    if kind == "sqlite" and not _sqlite_path(url).exists():
        raise _fail(f"no database at {_sqlite_path(url)}")
    if kind == "postgresql" and not logical and shutil.which("pg_dump") is None:
        typer.echo("pg_dump not found: writing a logical (JSON) backup instead", err=True)
        logical = True
    with tempfile.TemporaryDirectory() as scratch:
        payload = Path(scratch) / "payload"
        if logical:
            form, member = "logical", LOGICAL_MEMBER

            async def dump(connection: Any) -> tuple[str | None, Any]:
                return await _revision(connection), await _dump_rows(connection)

            revision, rows = asyncio.run(_with_engine(url, dump))
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
            revision = asyncio.run(_with_engine(url, _revision))
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
        partial.replace(output)
    typer.echo(f"Backed up {kind} ({form}, schema {revision}) to {output}")


# --- restore ------------------------------------------------------------------------------


def restore(
    backup_file: Annotated[Path, typer.Argument(help="A file written by `inner-circle backup`")],
    data_dir: DataDir = None,
    force: Annotated[
        bool, typer.Option("--force", help="Replace a database that already holds data")
    ] = False,
) -> None:
    """Restore a backup into the configured database (stop the server first).

    The whole file is checked first (cli/backup_check.py): a file that is not a backup, is
    damaged, comes from a newer version or holds no family is refused, and the database is
    left as it was, even with ``--force``.
    """
    from sqlalchemy.exc import SQLAlchemyError

    from inner_circle.cli.backup_check import BackupRefused, check_backup

    settings = build_settings(data_dir)
    url = settings.resolved_database_url
    target = "sqlite" if settings.is_sqlite else "postgresql"
    with tempfile.TemporaryDirectory() as scratch:
        try:
            backup = check_backup(backup_file, Path(scratch))
        except BackupRefused as exc:
            raise _fail(f"{exc}; nothing was changed") from exc
        if backup.form != "logical" and target != backup.database:
            raise _fail(
                f"this {backup.form} backup restores into {backup.database} only; "
                "make a --logical backup to move between databases"
            )
        try:
            _restore_checked(backup, settings, url, target, force)
        except (SQLAlchemyError, OSError, sqlite3.Error) as exc:
            raise _fail(f"the restore failed: {exc}") from exc
    typer.echo(
        f"Restored {backup_file} ({backup.form} from {backup.manifest.get('createdAt')}, "
        f"schema {backup.revision}) into the {target} database"
    )


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
        asyncio.run(_with_engine(url, lambda connection: _load_rows(connection, rows)))
    migrate.upgrade(url)  # a backup from an older version gets the newest schema


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
        holds = asyncio.run(_with_engine(url, _holds_data))
        if holds and not force:
            raise _fail(f"{path} already holds data; stop the server and add --force to replace it")
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    holds = asyncio.run(_with_engine(url, _holds_data))
    if holds and not force:
        raise _fail(
            "the database already holds data; stop the server and add --force to replace it"
        )

    async def wipe(connection: Any) -> None:
        from sqlalchemy import text

        await connection.execute(text("DROP SCHEMA public CASCADE"))
        await connection.execute(text("CREATE SCHEMA public"))

    asyncio.run(_with_engine(url, wipe))


# --- export -------------------------------------------------------------------------------


def export(
    output: Annotated[Path, typer.Option("--output", "-o", help="The JSON file to write")],
    data_dir: DataDir = None,
    user: Annotated[
        str | None, typer.Option("--user", help="Only the chats this member is in (username)")
    ] = None,
) -> None:
    """Export the family's history (or one member's) as JSON: members, chats, messages."""
    settings = build_settings(data_dir)
    try:
        document = asyncio.run(_with_engine(settings.resolved_database_url, _exporter(user)))
    except LookupError as exc:
        raise _fail(str(exc)) from exc
    output.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(document, handle, ensure_ascii=False, indent=2)
    count = sum(len(chat["messages"]) for chat in document["chats"])
    typer.echo(f"Exported {len(document['chats'])} chat(s), {count} message(s) to {output}")


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def _exporter(username: str | None) -> Any:
    async def work(connection: Any) -> dict[str, Any]:
        from sqlalchemy import select

        from inner_circle.server.db.models import Chat, ChatParticipant, Message, User

        users = (await connection.execute(select(User).order_by(User.created_at))).all()
        by_id = {u.id: u for u in users}
        member = None
        if username is not None:
            member = next((u for u in users if u.username.lower() == username.lower()), None)
            if member is None:
                raise LookupError(f"no member named {username!r}")
        participants: dict[uuid.UUID, list[uuid.UUID]] = {}
        for row in await connection.execute(
            select(ChatParticipant).order_by(ChatParticipant.joined_at)
        ):
            participants.setdefault(row.chatId, []).append(row.userId)
        chats = []
        for chat in (await connection.execute(select(Chat).order_by(Chat.created_at))).all():
            members = participants.get(chat.id, [])
            if member is not None and member.id not in members:
                continue
            messages = (
                await connection.execute(
                    select(Message).where(Message.chat_id == chat.id).order_by(Message.seq)
                )
            ).all()
            chats.append(
                {
                    "id": str(chat.id),
                    "type": chat.type,
                    "name": chat.name,
                    "createdAt": _iso(chat.createdAt),
                    "participantIds": [str(m) for m in members],
                    "messages": [
                        {
                            "id": str(m.id),
                            "seq": m.seq,
                            "senderId": str(m.senderId),
                            "sender": by_id[m.senderId].username if m.senderId in by_id else None,
                            "content": m.content,
                            "createdAt": _iso(m.createdAt),
                            "updatedAt": _iso(m.updatedAt),
                        }
                        for m in messages
                    ],
                }
            )
        return {
            "format": EXPORT_FORMAT,
            "version": 1,
            "appVersion": __version__,
            "exportedAt": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
            "scope": "member" if member is not None else "family",
            "member": member.username if member is not None else None,
            "members": [
                {
                    "id": str(u.id),
                    "username": u.username,
                    "displayName": u.displayName or u.username,
                    "isAdmin": u.isAdmin,
                    "isActive": u.isActive,
                    "createdAt": _iso(u.createdAt),
                }
                for u in users
            ],
            "chats": chats,
        }

    return work


def register(app: typer.Typer) -> None:
    """Add ``backup``, ``restore`` and ``export`` to the ``inner-circle`` command."""
    app.command()(backup)
    app.command()(restore)
    app.command()(export)
