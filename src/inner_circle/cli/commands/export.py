"""``inner-circle export``: the family's history (or one member's) as JSON."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from inner_circle.cli.common import DataDir, build_settings, fail

__all__ = ["export"]


def export(
    output: Annotated[Path, typer.Option("--output", "-o", help="The JSON file to write")],
    data_dir: DataDir = None,
    user: Annotated[
        str | None, typer.Option("--user", help="Only the chats this member is in (username)")
    ] = None,
) -> None:
    """Export the family's history (or one member's) as JSON: members, chats, messages."""
    from inner_circle.server.ops.backup import OpsError
    from inner_circle.server.ops.export import export_history

    settings = build_settings(data_dir)
    try:
        document = export_history(settings, output, user=user)
    except OpsError as exc:
        raise fail(str(exc)) from exc
    count = sum(len(chat["messages"]) for chat in document["chats"])
    typer.echo(f"Exported {len(document['chats'])} chat(s), {count} message(s) to {output}")
