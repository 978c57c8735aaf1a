"""The operator's data commands, one per file (as Zulip's management commands): each parses
its options, calls ``server/ops`` and prints the outcome. The work lives in ``server/ops``."""

from __future__ import annotations

import typer

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add ``backup``, ``restore`` and ``export`` to the ``inner-circle`` command."""
    from inner_circle.cli.commands import backup, export, restore

    app.command()(backup.backup)
    app.command()(restore.restore)
    app.command()(export.export)
