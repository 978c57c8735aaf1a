"""``inner-circle restore``: a checked backup into the configured database."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from inner_circle.cli.common import DataDir, build_settings, fail

__all__ = ["restore"]


def restore(
    backup_file: Annotated[Path, typer.Argument(help="A file written by `inner-circle backup`")],
    data_dir: DataDir = None,
    force: Annotated[
        bool, typer.Option("--force", help="Replace a database that already holds data")
    ] = False,
) -> None:
    """Restore a backup into the configured database (stop the server first).

    The whole file is checked first (server/ops/backup_check.py): a file that is not a
    backup, is damaged, comes from a newer version or holds no family is refused, and the
    database is left as it was, even with ``--force``.
    """
    from inner_circle.server.ops.backup import OpsError, restore_backup

    settings = build_settings(data_dir)
    try:
        done = restore_backup(settings, backup_file, force=force)
    except OpsError as exc:
        raise fail(str(exc)) from exc
    typer.echo(
        f"Restored {backup_file} ({done.form} from {done.created_at}, "
        f"schema {done.revision}) into the {done.database} database"
    )
