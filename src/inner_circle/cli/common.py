"""What every command shares: the data-folder option and settings with clear errors."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from inner_circle.server.settings import Settings

__all__ = ["DataDir", "build_settings", "fail"]

DataDir = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        help="Folder for the SQLite database and the generated secret "
        "[default: $INNER_CIRCLE_DATA_DIR or ./data]",
        show_default=False,
    ),
]


def build_settings(data_dir: Path | None, **overrides: Any) -> Settings:
    """Settings from the environment plus command-line overrides; a clear error when invalid."""
    from pydantic import ValidationError

    from inner_circle.server.settings import load_settings

    try:
        return load_settings(data_dir=data_dir, **overrides)
    except (ValidationError, ValueError) as exc:
        typer.echo(f"Configuration error: {exc}", err=True)
        raise typer.Exit(2) from exc


def fail(message: str) -> typer.Exit:
    """Print ``Error: message`` to stderr; raise the returned exit (status 1)."""
    typer.echo(f"Error: {message}", err=True)
    return typer.Exit(1)
