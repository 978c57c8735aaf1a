"""``inner-circle``: run and administer an Inner Circle server."""

from __future__ import annotations

import logging
import sys
from typing import Annotated

import typer

from inner_circle import __version__
from inner_circle.cli.common import DataDir, build_settings

app = typer.Typer(
    name="inner-circle",
    help="Inner Circle: a self-hosted, invitation-only family messenger.",
    no_args_is_help=True,
    add_completion=False,
)


@app.command()
def serve(
    data_dir: DataDir = None,
    host: Annotated[
        str | None, typer.Option(help="Address to listen on [default: 127.0.0.1]")
    ] = None,
    port: Annotated[
        int | None, typer.Option(min=1, max=65535, help="Port to listen on [default: 3000]")
    ] = None,
    migrate: Annotated[bool, typer.Option(help="Apply database migrations first")] = True,
) -> None:
    """Run the server: REST API, Socket.IO and the web client on one port."""
    import uvicorn

    from inner_circle.server.app import create_app
    from inner_circle.server.bootstrap import prepare

    settings = build_settings(data_dir, host=host, port=port)
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    code = prepare(settings) if migrate else None
    where = "SQLite in " + str(settings.data_dir.resolve()) if settings.is_sqlite else "PostgreSQL"
    typer.echo(f"Inner Circle {__version__} on http://{settings.host}:{settings.port} ({where})")
    if code:
        typer.echo("")
        typer.echo("No members yet. Register the first (admin) account with this invitation code:")
        typer.echo(f"    {code}")
        typer.echo(f"    or open http://{settings.host}:{settings.port}/join/{code}")
        typer.echo("")
    sys.stdout.flush()
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level.lower(),
        proxy_headers=True,
        timeout_graceful_shutdown=10,
    )


@app.command()
def migrate(data_dir: DataDir = None) -> None:
    """Create or upgrade the database schema (also adopts a database made by the seed server)."""
    from inner_circle.server.bootstrap import migrate_database

    settings = build_settings(data_dir)
    migrate_database(settings)
    typer.echo("Database is up to date.")


@app.command()
def version() -> None:
    """Print the version."""
    typer.echo(__version__)


def _register_admin() -> None:
    from inner_circle.cli import admin

    app.add_typer(admin.invite_app, name="invite")
    app.add_typer(admin.user_app, name="user")


_register_admin()


def main() -> None:
    app()


if __name__ == "__main__":
    main()
