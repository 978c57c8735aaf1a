"""``inner-circle``: run and administer an Inner Circle server."""

from __future__ import annotations

import os
import sys
from typing import Annotated, Any

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
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            help="Server processes on this port (needs PostgreSQL and Redis; clients "
            "must use WebSocket, see deploy/nginx-multi.conf for long-polling)",
        ),
    ] = 1,
) -> None:
    """Run the server: REST API, Socket.IO and the web client on one port."""
    import uvicorn

    from inner_circle.server.app import create_app
    from inner_circle.server.bootstrap import prepare
    from inner_circle.server.observability.logs import configure_logging
    from inner_circle.server.runtime import tune_gc
    from inner_circle.server.serving import run as run_gracefully
    from inner_circle.server.serving import uvicorn_options

    settings = build_settings(data_dir, host=host, port=port)
    if workers > 1 and (settings.is_sqlite or not settings.redis_url):
        typer.echo(
            "Configuration error: --workers needs PostgreSQL (INNER_CIRCLE_DATABASE_URL) and "
            "Redis (INNER_CIRCLE_REDIS_URL): workers share no memory",
            err=True,
        )
        raise typer.Exit(2)
    configure_logging(settings.log_level, settings.log_format)
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
    options = uvicorn_options(settings)
    if workers > 1:
        # Workers build the app themselves from the environment (inner_circle.server.asgi).
        os.environ.update(_settings_env(settings))
        uvicorn.run("inner_circle.server.asgi:create", factory=True, workers=workers, **options)
        return
    app = create_app(settings)
    tune_gc()  # after the app is built: its objects are frozen out of GC passes
    run_gracefully(app, **options)


def _settings_env(settings: Any) -> dict[str, str]:
    """What the command line chose, as INNER_CIRCLE_* for worker processes."""
    env = {
        "INNER_CIRCLE_HOST": settings.host,
        "INNER_CIRCLE_PORT": str(settings.port),
        "INNER_CIRCLE_DATA_DIR": str(settings.data_dir),
        "INNER_CIRCLE_DATABASE_URL": settings.resolved_database_url,
    }
    if settings.redis_url:
        env["INNER_CIRCLE_REDIS_URL"] = settings.redis_url
    # Without a configured secret every worker must read the same generated one.
    env["INNER_CIRCLE_JWT_SECRET"] = settings.secret_key()
    return env


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
    from inner_circle.cli import admin, commands

    app.add_typer(admin.invite_app, name="invite")
    commands.register(app)
    app.add_typer(admin.user_app, name="user")


_register_admin()


def main() -> None:
    app()


if __name__ == "__main__":
    main()
