"""Getting a data folder ready: schema, family chat, and the first admin's invitation."""

from __future__ import annotations

import asyncio
import uuid

from sqlalchemy import select

from inner_circle.core.clock import SystemClock
from inner_circle.protocol.rest import InviteCreateIn
from inner_circle.server.context import ServerContext
from inner_circle.server.db import migrate
from inner_circle.server.db.engine import create_engine, create_session_factory
from inner_circle.server.db.files import private_dir, private_file
from inner_circle.server.db.models import InvitationCode
from inner_circle.server.db.uow import UnitOfWorkFactory
from inner_circle.server.ports import Notifier
from inner_circle.server.realtime.presence import MemoryPresence
from inner_circle.server.realtime.revocations import Kind, Revocations
from inner_circle.server.repositories import users as users_repo
from inner_circle.server.security import PasswordService, TokenService
from inner_circle.server.services import chats as chat_service
from inner_circle.server.services.invites import issue_invite
from inner_circle.server.services.views import invite_out
from inner_circle.server.settings import Settings

__all__ = ["migrate_database", "operator_uows", "prepare"]


def migrate_database(settings: Settings) -> None:
    """Create the data folder (private: 0700) and bring the schema to the newest revision."""
    if settings.is_sqlite or settings.data_dir.exists():
        private_dir(settings.data_dir)
        private_file(settings.data_dir / "jwt-secret")  # made 0600; older installs too
    migrate.upgrade(settings.resolved_database_url)


class _OfflineNotifier:
    """The CLI runs beside the server. With Redis, live clients get its events and every
    server process is told to re-check the sockets of a member or session it revoked;
    without, each server's periodic sweep closes them within a second or two (ADR 10)."""

    def __init__(self, redis_url: str | None, prefix: str = "inner-circle") -> None:
        self._manager = None
        self._redis_url = redis_url
        self._prefix = prefix
        if redis_url:
            import socketio

            self._manager = socketio.AsyncRedisManager(redis_url, write_only=True)

    async def publish(self, events: object) -> None:
        if self._manager is None:
            return
        from inner_circle.server.realtime.rooms import user_room

        for event in events:  # type: ignore[attr-defined]
            for user_id in event.user_ids:
                await self._manager.emit(event.name, event.payload, room=user_room(user_id))

    async def disconnect_user(self, user_id: uuid.UUID) -> None:
        await self._hint("user", user_id)

    async def disconnect_session(self, session_id: uuid.UUID) -> None:
        await self._hint("session", session_id)

    async def _hint(self, kind: Kind, ident: uuid.UUID) -> None:
        if not self._redis_url:
            return
        from redis.asyncio import Redis

        redis = Redis.from_url(self._redis_url)
        try:
            await Revocations(redis, prefix=self._prefix).announce(kind, ident)
        finally:
            await redis.aclose()


def operator_uows(
    settings: Settings, notifier: Notifier | None = None
) -> tuple[UnitOfWorkFactory, object]:
    engine = create_engine(settings.resolved_database_url, pool_size=2)
    ctx = ServerContext(
        settings=settings,
        clock=SystemClock(),
        passwords=PasswordService(settings.argon2_memory_kib, settings.argon2_time_cost),
        tokens=TokenService(settings.secret_key(), settings.access_token_ttl_seconds, 60),
        presence=MemoryPresence(),
    )
    uows = UnitOfWorkFactory(
        create_session_factory(engine),
        notifier or _OfflineNotifier(settings.redis_url, settings.redis_key_prefix),
        ctx,
        serialise_writes=settings.is_sqlite,
    )
    return uows, engine


async def _first_admin_invite(settings: Settings) -> str | None:
    uows, engine = operator_uows(settings)
    try:
        async with uows.write() as uow:
            await chat_service.ensure_family_chat(uow)
            code = None
            if await users_repo.count(uow.session) == 0:
                now = uow.ctx.clock.now()
                pending = (
                    await uow.session.execute(
                        select(InvitationCode).where(
                            InvitationCode.grants_admin.is_(True),
                            InvitationCode.created_by_id.is_(None),
                            InvitationCode.revoked_at.is_(None),
                        )
                    )
                ).scalars()
                active = [i for i in pending if invite_out(i, now).status == "active"]
                if active:
                    code = active[0].code
                else:
                    code = (
                        await issue_invite(uow, InviteCreateIn(is_admin=True), created_by=None)
                    ).code
            await uow.commit()
            return code
    finally:
        await engine.dispose()  # type: ignore[attr-defined]


def prepare(settings: Settings) -> str | None:
    """Migrate, create the family chat, and return the first admin's invitation code
    while the family has no members yet (None afterwards)."""
    migrate_database(settings)
    return asyncio.run(_first_admin_invite(settings))
