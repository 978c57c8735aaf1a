"""``inner-circle backup``: one file holding the database, while the server keeps running."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from inner_circle.cli.common import DataDir, build_settings, fail

__all__ = ["backup"]


def backup(
    output: Annotated[Path, typer.Option("--output", "-o", help="The backup file to write")],
    data_dir: DataDir = None,
    logical: Annotated[
        bool, typer.Option("--logical", help="Rows as JSON: restores into SQLite or PostgreSQL")
    ] = False,
) -> None:
    """Back up the database to one file while the server keeps running."""
    from inner_circle.server.ops.backup import OpsError, make_backup

    settings = build_settings(data_dir)
    try:
        made = make_backup(settings, output, logical=logical)
    except OpsError as exc:
        raise fail(str(exc)) from exc
    for note in made.notes:
        typer.echo(note, err=True)
    typer.echo(f"Backed up {made.database} ({made.form}, schema {made.revision}) to {output}")
