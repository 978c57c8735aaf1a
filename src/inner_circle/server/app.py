"""The composition root: the only place that knows the concrete classes."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import socketio
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.staticfiles import StaticFiles

from inner_circle import __version__
from inner_circle.core.clock import Clock, SystemClock
from inner_circle.server.context import ServerContext
from inner_circle.server.db.engine import create_engine, create_session_factory
from inner_circle.server.db.scrub import WalScrubber
from inner_circle.server.db.uow import UnitOfWorkFactory
from inner_circle.server.http import (
    auth,
    chats,
    invites,
    media,
    messages,
    sync,
    system,
    uploads,
    users,
)
from inner_circle.server.http import calls as calls_http
from inner_circle.server.http import push as push_http
from inner_circle.server.http import rich as rich_http
from inner_circle.server.http import search as search_http
from inner_circle.server.http.body import BodySizeLimitMiddleware
from inner_circle.server.http.errors import install_error_handlers, install_openapi
from inner_circle.server.http.headers import SecurityHeadersMiddleware
from inner_circle.server.http.metrics import router as metrics_router
from inner_circle.server.limits import build_limits
from inner_circle.server.media.runtime import MediaRuntime
from inner_circle.server.media.signing import UrlSigner
from inner_circle.server.observability.logs import RequestIdMiddleware
from inner_circle.server.observability.metrics import MeteredNotifier, Metrics, MetricsMiddleware
from inner_circle.server.observability.stalls import StallWatchdog
from inner_circle.server.origins import SocketOrigins
from inner_circle.server.push.dispatch import PushingNotifier, PushService
from inner_circle.server.push.shown import MemoryShownMarks, RedisShownMarks
from inner_circle.server.push.visibility import MemoryVisibility, RedisVisibility
from inner_circle.server.realtime import fastjson
from inner_circle.server.realtime.fanout import (
    DirectFanoutManager,
    DirectFanoutRedisManager,
    close_client_manager,
)
from inner_circle.server.realtime.presence import MemoryPresence, PresenceTracker, RedisPresence
from inner_circle.server.realtime.revocations import Revocations
from inner_circle.server.realtime.socketio_notifier import SocketIONotifier
from inner_circle.server.security import PasswordService, TokenService
from inner_circle.server.services import calls as call_service
from inner_circle.server.services import chats as chat_service
from inner_circle.server.services import media as media_service
from inner_circle.server.services import presence as presence_service
from inner_circle.server.services import uploads as uploads_service
from inner_circle.server.services.group_commit import SendBatcher
from inner_circle.server.settings import Settings
from inner_circle.server.socket.calls import CallsNamespace
from inner_circle.server.socket.server import GuardedServer
from inner_circle.server.socket.visibility import VisibilityNamespace

__all__ = ["STATIC_DIR", "create_app"]

log = logging.getLogger(__name__)
STATIC_DIR = Path(__file__).parent / "static"
MAX_EVENT_BYTES = 64 * 1024
TUS_REQUEST_HEADERS = ["Tus-Resumable", "Upload-Length", "Upload-Metadata", "Upload-Offset"]
TUS_RESPONSE_HEADERS = [
    "Location",
    "Tus-Resumable",
    "Tus-Version",
    "Upload-Offset",
    "Upload-Length",
]
MEDIA_CLEAN_SECONDS = 3600.0


def create_app(
    settings: Settings, *, clock: Clock | None = None, static_dir: Path = STATIC_DIR
) -> Any:
    """Build the whole server as one ASGI app: REST, Socket.IO and the web client."""
    engine = create_engine(settings.resolved_database_url, pool_size=settings.db_pool_size)
    origins = [*settings.cors_origins]
    client_manager = (
        DirectFanoutRedisManager(settings.redis_url)
        if settings.redis_url
        else DirectFanoutManager()
    )
    sio = GuardedServer(
        async_mode="asgi",
        connect_timeout=settings.socket_connect_timeout_seconds,
        client_manager=client_manager,
        # Same-origin pages (the web client) and native apps (no Origin header) are always
        # allowed; other browser origins only when configured (server/origins.py).
        cors_allowed_origins=SocketOrigins(origins),
        max_http_buffer_size=MAX_EVENT_BYTES,
        ping_interval=20,
        ping_timeout=20,
        json=fastjson,  # orjson: the encoder is a large share of each fan-out
    )
    presence: PresenceTracker = (
        RedisPresence.from_url(
            settings.redis_url,
            prefix=f"{settings.redis_key_prefix}:",
            ttl=settings.presence_ttl_seconds,
        )
        if settings.redis_url
        else MemoryPresence()
    )
    redis_client = None
    if settings.redis_url:
        from redis.asyncio import Redis

        redis_client = Redis.from_url(settings.redis_url)
    revocations = Revocations(redis_client, prefix=settings.redis_key_prefix)
    passwords = PasswordService(settings.argon2_memory_kib, settings.argon2_time_cost)
    metrics = Metrics()
    metrics.watch(sio=sio, engine=engine, passwords=passwords)
    ctx = ServerContext(
        settings=settings,
        clock=clock or SystemClock(),
        passwords=passwords,
        tokens=TokenService(
            settings.secret_key(),
            settings.access_token_ttl_seconds,
            settings.refresh_token_ttl_seconds,
        ),
        presence=presence,
        media=build_media(settings),
    )
    visibility = (
        RedisVisibility.from_url(
            settings.redis_url,
            prefix=f"{settings.redis_key_prefix}:",
            ttl=settings.presence_ttl_seconds,
        )
        if settings.redis_url
        else MemoryVisibility()
    )
    marks = (
        RedisShownMarks.from_url(settings.redis_url, prefix=f"{settings.redis_key_prefix}:")
        if settings.redis_url
        else MemoryShownMarks()
    )
    push = PushService(settings, ctx.clock, visibility, metrics.registry, marks=marks)
    uows = UnitOfWorkFactory(
        create_session_factory(engine),
        PushingNotifier(
            MeteredNotifier(SocketIONotifier(sio, presence, revocations), metrics), push
        ),
        ctx,
        serialise_writes=settings.is_sqlite,
    )
    scrubber = WalScrubber(engine, uows.write_lock) if settings.is_sqlite else None
    uows.scrubber = scrubber
    uows.on_slow_commit = metrics.slow_commits.inc
    uows.on_slow_transaction = metrics.slow_transactions.inc
    stalls = StallWatchdog(
        on_stall=lambda stall: metrics.loop_stalls.labels(stall.cause).observe(stall.ms / 1000)
    )
    push.uows = uows
    limits = build_limits(settings, redis_client, now=lambda: ctx.clock.now().timestamp())
    # One transaction owner for every send (REST and Socket.IO): one group commit queue.
    sends = SendBatcher(uows)
    namespace = VisibilityNamespace(uows, sends, limits, metrics, visibility)
    sio.register_namespace(namespace)
    revocations.subscribe(namespace.recheck)
    call_namespace = CallsNamespace(uows, limits)
    sio.register_namespace(call_namespace)
    revocations.subscribe(call_namespace.recheck)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        async with uows.write() as uow:
            await chat_service.ensure_family_chat(uow)
            await uow.commit()
        await push.start()
        await _prepare_media(ctx.media)
        await uploads_service.resume_processing(uows)
        log.info("Inner Circle %s ready", __version__)
        keeper = asyncio.create_task(
            _keep_presence(uows, presence, settings.presence_ttl_seconds / 3)
        )
        # Live sockets obey revocations (ADR 10): a sweep here, hints from other processes.
        watchers = [
            asyncio.create_task(stalls.run()),
            asyncio.create_task(namespace.run_revalidation()),
            asyncio.create_task(call_namespace.run_revalidation()),
            asyncio.create_task(revocations.listen()),
            asyncio.create_task(_clean_media(uows)),
            # Unanswered calls end even when the process that rang them died (ADR 16).
            asyncio.create_task(_sweep_calls(uows, settings.call_sweep_seconds)),
        ]
        yield
        keeper.cancel()
        for watcher in watchers:
            watcher.cancel()
        await asyncio.gather(*watchers, return_exceptions=True)
        await push.close()
        if ctx.media is not None:
            await ctx.media.close()
        if scrubber is not None:
            await scrubber.close()
        await presence.close()
        await engine.dispose()
        if redis_client is not None:
            await redis_client.aclose()
        await close_client_manager(client_manager)

    api = FastAPI(
        title="Inner Circle",
        version=__version__,
        description="A self-hosted, invitation-only family messenger. Socket.IO events: see docs/api.md.",
        lifespan=lifespan,
        docs_url="/docs" if settings.api_docs_enabled else None,
        redoc_url="/redoc" if settings.api_docs_enabled else None,
    )
    api.state.engine = engine
    api.state.uow_factory = uows
    api.state.ctx = ctx
    api.state.sio = sio
    api.state.limits = limits
    api.state.sends = sends
    api.state.redis = redis_client
    api.state.metrics = metrics
    api.state.push = push
    install_error_handlers(api)
    install_openapi(api)
    api.add_middleware(
        CORSMiddleware,
        allow_origins=origins,
        allow_methods=["GET", "HEAD", "POST", "PATCH", "PUT", "DELETE"],
        # tus uploads (docs/media.md) from a configured other origin.
        allow_headers=["Content-Type", "Authorization", *TUS_REQUEST_HEADERS],
        expose_headers=["X-Has-More", *TUS_RESPONSE_HEADERS],
    )
    api.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_request_bytes)
    docs_paths = ["/docs", "/docs/oauth2-redirect", "/redoc"] if settings.api_docs_enabled else []
    api.add_middleware(SecurityHeadersMiddleware, docs_paths=docs_paths)
    api.add_middleware(MetricsMiddleware, metrics=metrics)
    api.add_middleware(RequestIdMiddleware)
    for router in (
        auth.router,
        users.router,
        chats.router,
        rich_http.router,
        messages.router,
        invites.router,
        sync.router,
        push_http.router,
        uploads.router,
        media.router,
        search_http.router,
        calls_http.router,
        system.router,
        metrics_router,
    ):
        api.include_router(router)
    api.include_router(system.web_client_router(static_dir))
    if static_dir.is_dir():
        api.mount("/", StaticFiles(directory=static_dir), name="web")
    return socketio.ASGIApp(sio, other_asgi_app=api, socketio_path="socket.io")


async def _keep_presence(
    uows: UnitOfWorkFactory, presence: PresenceTracker, interval: float
) -> None:
    """Keep this process's connections alive in shared presence; members whose server
    process died (their entries expired) are announced offline by one surviving process."""
    while True:
        await asyncio.sleep(interval)  # a timer, not synchronisation
        try:
            await presence.heartbeat()
            lost = await presence.sweep()
            if lost:
                async with uows.write() as uow:
                    await presence_service.connections_lost(uow, lost)
                    await uow.commit()
        except Exception:
            log.exception("presence heartbeat failed")


def build_media(settings: Settings) -> MediaRuntime:
    """The media store the settings name (docs/media.md), its staging folder and signer."""
    from inner_circle.server.ports import MediaStore

    store: MediaStore
    if settings.media_backend == "s3":
        from inner_circle.server.media.storage_s3 import S3MediaStore

        store = S3MediaStore(
            endpoint=settings.media_s3_endpoint,
            bucket=settings.media_s3_bucket,
            region=settings.media_s3_region,
            access_key=settings.media_s3_access_key,
            secret_key=settings.media_s3_secret_key,
            presign=settings.media_s3_presign,
            prefix=settings.media_s3_prefix,
        )
    else:
        from inner_circle.server.media.storage_local import LocalMediaStore

        store = LocalMediaStore(settings.data_dir / "media")
    return MediaRuntime(
        store,
        UrlSigner(settings.media_secret_key(), settings.media_url_ttl_seconds),
        settings.data_dir / "uploads",
        max_file_bytes=settings.media_max_file_bytes,
        quota_bytes=settings.media_quota_bytes,
        max_pixels=settings.media_max_pixels,
        workers=settings.media_workers,
        orphan_seconds=settings.media_orphan_hours * 3600,
    )


async def _prepare_media(media: MediaRuntime | None) -> None:
    ensure = getattr(media.store, "ensure_bucket", None) if media is not None else None
    if ensure is not None:
        await ensure()


async def _clean_media(uows: UnitOfWorkFactory) -> None:
    """Orphaned uploads go after a day (services/media.py: clean_orphans)."""
    while True:
        try:
            async with uows.write() as uow:
                removed = await media_service.clean_orphans(uow)
                await uow.commit()
            if removed:
                log.info("removed %d orphaned uploads", removed)
        except Exception:
            log.exception("media cleanup failed")
        await asyncio.sleep(MEDIA_CLEAN_SECONDS)  # a timer, not synchronisation


async def _sweep_calls(uows: UnitOfWorkFactory, interval: float) -> None:
    """End calls past their ring time (or far too long); every process runs this, and the
    conditional UPDATE ends each call once."""
    while True:
        await asyncio.sleep(interval)  # a timer, not synchronisation
        try:
            async with uows.read() as uow:
                due = await call_service.expired_calls(uow)
            for call_id in due:
                async with uows.write() as uow:
                    await call_service.expire(uow, call_id)
                    await uow.commit()
        except Exception:
            log.exception("call sweep failed")
