"""Operator commands, run next to the database: they call the same use cases as the API."""

from __future__ import annotations

import asyncio
import getpass
import json
import re
import sys
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Annotated, Any, TypeVar

import typer

from inner_circle.cli.common import DataDir, build_settings
from inner_circle.core.errors import InnerCircleError

invite_app = typer.Typer(help="Create, list and revoke invitation codes.", no_args_is_help=True)
user_app = typer.Typer(help="List and manage family members.", no_args_is_help=True)

T = TypeVar("T")
DURATION = re.compile(r"^(\d+)\s*([smhdw])$")
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str) -> timedelta:
    """'30m', '12h', '7d', '2w' → a timedelta."""
    match = DURATION.match(text.strip().lower())
    if not match:
        raise typer.BadParameter("use a number and a unit: 30m, 12h, 7d or 2w")
    return timedelta(seconds=int(match.group(1)) * UNITS[match.group(2)])


def run_operator(data_dir: Any, work: Callable[[Any], Awaitable[T]]) -> T:
    """Open a unit of work on the configured database, run ``work(uow)``, commit."""

    async def in_one_unit(uows: Any) -> T:
        async with uows.write() as uow:
            result = await work(uow)
            await uow.commit()
            return result

    return run_operator_uows(data_dir, in_one_unit)


def run_operator_uows(data_dir: Any, work: Callable[[Any], Awaitable[T]]) -> T:
    """Run ``work(uows)`` with a unit-of-work factory on the configured database (for use
    cases that open their own units: a password hash runs between them)."""
    from inner_circle.server.bootstrap import operator_uows

    settings = build_settings(data_dir)
    database_file = settings.data_dir / "inner-circle.db"
    if settings.is_sqlite and not database_file.exists():
        typer.echo(
            f"Error: no database at {database_file}; run `inner-circle migrate` (or serve) first",
            err=True,
        )
        raise typer.Exit(1)

    async def main() -> T:
        uows, engine = operator_uows(settings)
        try:
            return await work(uows)
        finally:
            await engine.dispose()  # type: ignore[attr-defined]

    try:
        return asyncio.run(main())
    except InnerCircleError as exc:
        typer.echo(f"Error: {exc.message}", err=True)
        raise typer.Exit(1) from exc
    except Exception as exc:
        if "no such table" in str(exc) or "does not exist" in str(exc):
            typer.echo(
                "Error: the database has no schema yet; run `inner-circle migrate`", err=True
            )
            raise typer.Exit(1) from exc
        raise


async def _user_by_ref(uow: Any, ref: str) -> Any:
    import uuid

    from inner_circle.core.errors import NotFound
    from inner_circle.server.repositories import users as users_repo

    user = None
    try:
        user = await users_repo.by_id(uow.session, uuid.UUID(ref))
    except ValueError:
        user = await users_repo.by_username(uow.session, ref)
    if user is None:
        raise NotFound(f"No member named {ref!r}")
    return user


def _print_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False))


# --- invitations ------------------------------------------------------------------------


@invite_app.command("create")
def invite_create(
    data_dir: DataDir = None,
    uses: Annotated[
        int, typer.Option(min=1, max=1000, help="How many people may join with it")
    ] = 1,
    expires: Annotated[
        str | None, typer.Option(help="Lifetime, e.g. 30m, 12h, 7d, 2w [default: never]")
    ] = None,
    admin: Annotated[
        bool, typer.Option("--admin", help="Whoever joins with it is an admin")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print the code alone")] = False,
) -> None:
    """Create an invitation code."""
    from inner_circle.protocol.rest import InviteCreateIn
    from inner_circle.server.services.invites import issue_invite

    lifetime = parse_duration(expires) if expires else None
    if lifetime is not None and lifetime.total_seconds() < 60:
        raise typer.BadParameter("the lifetime must be at least 1 minute", param_hint="--expires")
    body = InviteCreateIn(
        usage_limit=uses,
        expires_in_seconds=int(lifetime.total_seconds()) if lifetime else None,
        is_admin=admin,
    )
    invite = run_operator(data_dir, lambda uow: issue_invite(uow, body, created_by=None))
    if quiet:
        typer.echo(invite.code)
        return
    kind = "admin invitation" if invite.is_admin else "invitation"
    expiry = f", expires {invite.expires_at:%Y-%m-%d %H:%M} UTC" if invite.expires_at else ""
    typer.echo(f"Created {kind} {invite.code} ({invite.usage_limit} use(s){expiry})")


@invite_app.command("list")
def invite_list(
    data_dir: DataDir = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output")] = False,
) -> None:
    """List invitation codes, newest first."""
    from inner_circle.server.repositories import invites as invites_repo
    from inner_circle.server.services.views import invite_out

    async def work(uow: Any) -> list[Any]:
        now = uow.ctx.clock.now()
        return [invite_out(i, now) for i in await invites_repo.list_all(uow.session)]

    invites = run_operator(data_dir, work)
    if as_json:
        _print_json([i.model_dump(mode="json", by_alias=True) for i in invites])
        return
    if not invites:
        typer.echo("No invitation codes.")
        return
    for i in invites:
        flags = " admin" if i.is_admin else ""
        expiry = f" expires {i.expires_at:%Y-%m-%d %H:%M}" if i.expires_at else ""
        typer.echo(f"{i.code}  {i.status:<8} {i.used_count}/{i.usage_limit}{flags}{expiry}")


@invite_app.command("revoke")
def invite_revoke(
    code: Annotated[str, typer.Argument(help="The code or its id")], data_dir: DataDir = None
) -> None:
    """Revoke an invitation code so nobody can join with it any more."""
    from inner_circle.server.services.invites import revoke_invite

    invite = run_operator(data_dir, lambda uow: revoke_invite(uow, None, code))
    typer.echo(f"Revoked {invite.code}")


# --- members ----------------------------------------------------------------------------


@user_app.command("list")
def user_list(
    data_dir: DataDir = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output")] = False,
) -> None:
    """List every member."""
    from inner_circle.server.repositories import users as users_repo
    from inner_circle.server.services.views import user_out

    async def work(uow: Any) -> list[Any]:
        return [user_out(u) for u in await users_repo.list_all(uow.session)]

    members = run_operator(data_dir, work)
    if as_json:
        _print_json([m.model_dump(mode="json", by_alias=True) for m in members])
        return
    if not members:
        typer.echo("No members yet.")
        return
    for m in members:
        flags = ("admin " if m.is_admin else "") + ("" if m.is_active else "deactivated")
        typer.echo(f"{m.username:<24} {m.display_name:<24} {flags}".rstrip())


@user_app.command("set-admin")
def user_set_admin(
    username: str,
    data_dir: DataDir = None,
    revoke: Annotated[
        bool, typer.Option("--revoke", help="Take admin rights away instead")
    ] = False,
) -> None:
    """Make a member an admin (or, with --revoke, an ordinary member)."""
    from inner_circle.server.services.accounts import set_admin

    async def work(uow: Any) -> Any:
        user = await _user_by_ref(uow, username)
        return await set_admin(uow, None, user.id, not revoke)

    member = run_operator(data_dir, work)
    typer.echo(f"{member.username} is {'an admin' if member.is_admin else 'no longer an admin'}")


@user_app.command("deactivate")
def user_deactivate(username: str, data_dir: DataDir = None) -> None:
    """Deactivate a member: they can no longer sign in; their messages stay."""
    from inner_circle.server.services.accounts import deactivate_member

    async def work(uow: Any) -> Any:
        user = await _user_by_ref(uow, username)
        return await deactivate_member(uow, None, user.id)

    member = run_operator(data_dir, work)
    typer.echo(f"Deactivated {member.username}")


@user_app.command("reset-password")
def user_reset_password(
    username: str,
    data_dir: DataDir = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the new password from standard input")
    ] = False,
) -> None:
    """Set a new password for a member (asked for twice, or read from stdin)."""
    from pydantic import ValidationError

    from inner_circle.protocol.rest import PasswordResetIn
    from inner_circle.server.services.accounts import reset_password

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("New password: ")
        if getpass.getpass("Repeat it: ") != password:
            typer.echo("Error: the passwords differ", err=True)
            raise typer.Exit(1)
    try:
        body = PasswordResetIn(new_password=password)
    except ValidationError as exc:
        typer.echo("Error: the password must be 6 to 128 characters", err=True)
        raise typer.Exit(1) from exc

    async def work(uows: Any) -> str:
        async with uows.read() as uow:
            user = await _user_by_ref(uow, username)
            user_id, name = user.id, str(user.username)
        await reset_password(uows, None, user_id, body)
        return name

    name = run_operator_uows(data_dir, work)
    typer.echo(f"Password of {name} changed; their sessions have ended.")
