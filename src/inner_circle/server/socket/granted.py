"""What every Socket.IO namespace shares: authenticate on connect, keep the grant, dispatch.

Handlers hold no rules: they turn a payload into a protocol model, open a unit of
work, call the service and shape the acknowledgement. A refused request answers
with an ``error`` event (the seed's way) and an ``{ok: false}`` ack; the
connection stays open.

A connection is not trusted for its whole life (ADR 10). Its *grant* (the access
token's member, version, session and expiry) is checked again before events (at most
``2 × socket_revalidate_seconds`` after the last check; at once for events that admin
rights decide), by a sweep over every connection of this process, and on revocation
hints. A grant that no longer holds gets an ``error`` event saying why, then the
connection is closed. ``reauth {token}`` swaps in a fresh token of the same member.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

import socketio
from pydantic import BaseModel, ValidationError

from inner_circle.core.actor import Actor
from inner_circle.core.errors import (
    ErrorCode,
    Forbidden,
    InnerCircleError,
    RateLimited,
    Unauthenticated,
    ValidationFailed,
)
from inner_circle.protocol.events import (
    ClientEvent,
    ReauthIn,
    ServerEvent,
)
from inner_circle.server.db.uow import UnitOfWork, UnitOfWorkFactory
from inner_circle.server.limits import Bucket, Limits, MemoryBackend
from inner_circle.server.limits.text import reject_nul
from inner_circle.server.realtime.revocations import Kind
from inner_circle.server.realtime.rooms import session_room, user_room
from inner_circle.server.security import AccessClaims
from inner_circle.server.services import grants
from inner_circle.server.socket.acks import failure, success

__all__ = [
    "RESERVED_EVENTS",
    "Grant",
    "GrantEnded",
    "GrantedNamespace",
    "NoPayload",
    "dump",
    "parse",
    "refused",
    "reject_binary",
]

log = logging.getLogger(__name__)
M = TypeVar("M", bound=BaseModel)

# Names Socket.IO keeps for itself; a client that sends one is refused, never dispatched.
RESERVED_EVENTS = frozenset(
    {"connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"}
)
# Connections checked per read in the sweep. All of them at once stopped the loop for
# 20-27 ms every second with 1,000 connections (eleventh session, docs/performance.md).
SWEEP_CHUNK = 100
EXPIRED = "The access token has expired; connect again with a fresh one (or send reauth before)"


@dataclass(slots=True)
class Grant:
    """What one connection is allowed on: its token's claims, as checked ``checked_at``."""

    claims: AccessClaims
    actor: Actor
    checked_at: float  # time.monotonic() when the database last confirmed it
    ending: bool = False
    # Why it ended while the connection was still being set up (closed once it is set up).
    pending_close: InnerCircleError | None = None


class GrantEnded(Exception):
    """The connection's grant no longer holds; ``error`` says why. The socket is closed."""

    def __init__(self, error: InnerCircleError) -> None:
        super().__init__(error.message)
        self.error = error


def _token_from(environ: dict[str, Any], auth_payload: Any) -> str | None:
    if isinstance(auth_payload, dict):
        token = auth_payload.get("token")
        if isinstance(token, str) and token:
            return token.removeprefix("Bearer ").strip()
    header = environ.get("HTTP_AUTHORIZATION", "")
    if isinstance(header, str) and header.lower().startswith("bearer "):
        return header[7:].strip()
    return None


def parse(model: type[M], data: Any) -> M:
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ValidationFailed("The payload must be a JSON object")
    reject_binary(data)
    reject_nul(data)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first.get("loc", ())) or "payload"
        raise ValidationFailed(f"{field}: {first.get('msg', 'invalid')}") from exc


def refused(error: InnerCircleError) -> socketio.exceptions.ConnectionRefusedError:
    """A refused connection: clients get ``{message, data: {code, message}}`` (the JS
    client's ``connect_error`` has them as ``err.message`` and ``err.data``)."""
    return socketio.exceptions.ConnectionRefusedError(error.message, error.to_dict())


def reject_binary(value: Any, depth: int = 0) -> None:
    """Refuse bytes anywhere in a payload: Socket.IO binary attachments would reach string
    fields (Pydantic decodes bytes in lax mode) past the NUL check."""
    if depth > 64:
        raise ValidationFailed("The payload is nested too deeply")
    if isinstance(value, (bytes, bytearray, memoryview)):
        raise ValidationFailed("Binary data is not accepted; send text fields")
    if isinstance(value, dict):
        for key, item in value.items():
            reject_binary(key, depth + 1)
            reject_binary(item, depth + 1)
    elif isinstance(value, (list, tuple)):
        for item in value:
            reject_binary(item, depth + 1)


class NoPayload(BaseModel):
    """Events that take no arguments (extra fields are ignored)."""


def dump(model: BaseModel) -> Any:
    return model.model_dump(mode="json", by_alias=True)


class GrantedNamespace(socketio.AsyncNamespace):
    """A namespace whose connections carry a grant (ADR 10). Subclasses add ``on_<event>``
    handlers and the hooks :meth:`_admit`, :meth:`_opened`, :meth:`_closed`."""

    # Events whose rights depend on the member's admin flag: checked against the database
    # every time, never from the connection's cache.
    FRESH_EVENTS: frozenset[str] = frozenset()
    # Events that spend from a budget of their own (server/limits), not the connection's.
    UNBUDGETED_EVENTS: frozenset[str] = frozenset()

    def __init__(
        self, namespace: str, uows: UnitOfWorkFactory, limits: Limits | None = None
    ) -> None:
        super().__init__(namespace)
        self._uows = uows
        self._limits = limits
        settings = uows.ctx.settings
        self._grants: dict[str, Grant] = {}
        self._revalidate_every = settings.socket_revalidate_seconds
        self._max_age = 2 * settings.socket_revalidate_seconds
        self._budget = Bucket(
            settings.limit_socket_event_burst, settings.limit_socket_events_per_second
        )
        self._budget_on = settings.rate_limits_enabled and self._budget.enabled
        self._budgets = MemoryBackend()

    # --- connection lifecycle ---------------------------------------------------------

    async def on_connect(self, sid: str, environ: dict[str, Any], auth_payload: Any = None) -> None:
        token = _token_from(environ, auth_payload)
        try:
            if token is None:
                raise Unauthenticated(
                    "Send the access token in auth.token or an Authorization header"
                )
            claims = self._uows.ctx.tokens.decode_access(token)
            checked = time.monotonic()
            async with self._uows.read() as uow:
                actor = await grants.confirm(uow, claims)
            await self._admit(actor)
        except InnerCircleError as exc:
            raise refused(exc) from None
        except Exception:
            log.exception("unexpected error authenticating a connection")
            error = InnerCircleError("Internal server error", ErrorCode.INTERNAL)
            raise refused(error) from None
        grant = Grant(claims, actor, checked)
        self._grants[sid] = grant
        await self.save_session(sid, {"actor": actor})
        await self.enter_room(sid, user_room(actor.id))
        if actor.session_id is not None:
            await self.enter_room(sid, session_room(actor.session_id))
        # A revocation that committed while this connection was being set up may have
        # swept the rooms before it joined them: now that it is findable, ask again.
        try:
            async with self._uows.read() as uow:
                await grants.confirm(uow, claims)
        except InnerCircleError as exc:
            self._grants.pop(sid, None)
            raise refused(exc) from None
        if self._grants.get(sid) is not grant or grant.ending:
            self._grants.pop(sid, None)
            raise refused(Unauthenticated(grants.ENDED, ErrorCode.TOKEN_INVALID))
        await self._opened(sid, actor)
        if grant.ending:  # a sweep or hint ended it meanwhile; nothing awaits after this
            await self.on_disconnect(sid)
            raise refused(Unauthenticated(grants.ENDED, ErrorCode.TOKEN_INVALID))

    async def on_disconnect(self, sid: str, reason: Any = None) -> None:
        grant = self._grants.pop(sid, None)
        if grant is not None:
            await self._closed(sid, grant.actor)

    async def _admit(self, actor: Actor) -> None:
        """Before a connection is accepted: raise to refuse it."""

    async def _opened(self, sid: str, actor: Actor) -> None:
        """The connection is set up (in its member's and session's rooms)."""

    async def _closed(self, sid: str, actor: Actor) -> None:
        """The connection closed."""

    # --- grants -----------------------------------------------------------------------

    async def run_revalidation(self) -> None:
        """Run forever: every ``socket_revalidate_seconds``, close this process's sockets
        whose token expired or whose grant the database no longer holds (the CLI, another
        process, a lost hint: whatever revoked it, nobody has to tell this process)."""
        while True:
            await asyncio.sleep(self._revalidate_every)  # a timer, not synchronisation
            sids = list(self._grants)
            try:
                for start in range(0, len(sids), SWEEP_CHUNK):
                    await self.revalidate(sids[start : start + SWEEP_CHUNK])
                    # SQLite's reads run on the loop's thread without yielding: let the
                    # deliveries waiting meanwhile go out before the next chunk.
                    await asyncio.sleep(0)
            except Exception as exc:  # the database may be down; try again next tick
                log.warning("socket revalidation failed (%s)", type(exc).__name__)

    async def recheck(self, kind: Kind, ident: uuid.UUID) -> None:
        """A revocation hint: re-check the sockets of member or session ``ident`` now."""
        if kind == "user":
            sids = [sid for sid, g in self._grants.items() if g.claims.user_id == ident]
        else:
            sids = [sid for sid, g in self._grants.items() if g.claims.session_id == ident]
        if sids:
            await self.revalidate(sids)

    async def revalidate(self, sids: Iterable[str]) -> None:
        """Check the grants of ``sids`` against the database in one read; close the ended."""
        now = time.time()
        live: list[tuple[str, Grant]] = []
        for sid in sids:
            grant = self._grants.get(sid)
            if grant is None or grant.ending:
                continue
            if now >= grant.claims.expires_at:
                await self._end(sid, Unauthenticated(EXPIRED, ErrorCode.TOKEN_INVALID))
            else:
                live.append((sid, grant))
        if not live:
            return
        started = time.monotonic()
        async with self._uows.read() as uow:
            state = await grants.review(
                uow,
                {g.claims.user_id for _, g in live},
                {g.claims.session_id for _, g in live if g.claims.session_id is not None},
            )
        for sid, grant in live:
            if self._grants.get(sid) is not grant:
                continue  # closed, or replaced by reauth meanwhile
            verdict = grants.judge(grant.claims, state)
            if isinstance(verdict, InnerCircleError):
                await self._end(sid, verdict)
            else:
                grant.actor = verdict
                grant.checked_at = started

    async def _authorise(self, sid: str, event: str) -> Grant:
        """The connection's grant, confirmed recently enough for ``event``; or GrantEnded."""
        grant = self._grants.get(sid)
        if grant is None or grant.ending:
            raise GrantEnded(Unauthenticated("Not signed in"))
        if time.time() >= grant.claims.expires_at:
            raise GrantEnded(Unauthenticated(EXPIRED, ErrorCode.TOKEN_INVALID))
        if event in self.FRESH_EVENTS or time.monotonic() - grant.checked_at > self._max_age:
            started = time.monotonic()
            async with self._uows.read() as uow:
                state = await grants.review(
                    uow,
                    [grant.claims.user_id],
                    [grant.claims.session_id] if grant.claims.session_id else [],
                )
            verdict = grants.judge(grant.claims, state)
            if isinstance(verdict, InnerCircleError):
                raise GrantEnded(verdict)
            if self._grants.get(sid) is grant:
                grant.actor = verdict
                grant.checked_at = started
            return self._grants.get(sid) or grant
        return grant

    async def _end(self, sid: str, error: InnerCircleError) -> None:
        """Tell the connection why its grant ended, then close it."""
        grant = self._grants.get(sid)
        if grant is None or grant.ending:
            return
        grant.ending = True
        if not self.server.manager.is_connected(sid, self.namespace):
            # Still connecting: on_connect sees ``ending`` and refuses it, or, if it has
            # already returned, connection_established closes it once it is connected.
            grant.pending_close = error
            return
        await self._close(sid, error)

    async def connection_established(self, sid: str) -> None:
        """python-socketio finished connecting ``sid``: close it now if its grant ended meanwhile."""
        grant = self._grants.get(sid)
        if grant is not None and grant.pending_close is not None:
            error, grant.pending_close = grant.pending_close, None
            await self._close(sid, error)

    async def _close(self, sid: str, error: InnerCircleError) -> None:
        try:
            await self.emit(
                ServerEvent.ERROR,
                {**error.to_dict(), "event": "session"},
                to=sid,
                ignore_queue=True,
            )
        finally:
            await self.server.disconnect(sid, namespace=self.namespace, ignore_queue=True)

    def _end_soon(self, sid: str, error: InnerCircleError) -> None:
        """Close after the current event's ack has gone out (it is queued when we return)."""
        task = asyncio.get_running_loop().create_task(self._end(sid, error))
        _background.add(task)
        task.add_done_callback(_background.discard)

    # --- events every namespace serves -----------------------------------------------

    async def on_reauth(self, sid: str, data: Any = None) -> dict[str, Any]:
        async def swap(actor: Actor) -> dict[str, Any]:
            body = parse(ReauthIn, data)
            claims = self._uows.ctx.tokens.decode_access(body.token)
            if claims.user_id != actor.id:
                raise Forbidden("The token belongs to another member")
            checked = time.monotonic()
            async with self._uows.read() as uow:
                fresh = await grants.confirm(uow, claims)
            old = self._grants.get(sid)
            if old is None or old.ending:
                raise Unauthenticated("Not signed in")
            if old.claims.session_id != claims.session_id:
                if old.claims.session_id is not None:
                    await self.leave_room(sid, session_room(old.claims.session_id))
                if claims.session_id is not None:
                    await self.enter_room(sid, session_room(claims.session_id))
            self._grants[sid] = Grant(claims, fresh, checked)
            await self.save_session(sid, {"actor": fresh})
            expires = time.gmtime(claims.expires_at)
            return success(expiresAt=time.strftime("%Y-%m-%dT%H:%M:%SZ", expires))

        return await self._handle(sid, ClientEvent.REAUTH, swap)

    # --- plumbing ---------------------------------------------------------------------

    async def trigger_event(self, event: str, *args: Any) -> Any:
        """Route an event to its handler, after the checks every event passes.

        ``connect``/``disconnect`` reach their handlers only from python-socketio itself
        (a connection being set up or torn down); a client that sends them, another
        reserved name or an unknown one is refused. Then: the connection's event budget,
        no binary data, and its grant (a grant that ended closes the connection).
        """
        sid = args[0] if args else None
        manager = self.server.manager
        if event == "connect" and manager.is_pre_connected(sid, self.namespace):
            return await self.on_connect(*args)
        if event == "disconnect" and not manager.is_connected(sid, self.namespace):
            return await self.on_disconnect(*args)
        payload = args[1] if len(args) > 1 else None
        name = event[:64] if isinstance(event, str) else "?"
        if self._budget_on and event not in self.UNBUDGETED_EVENTS:
            wait = await self._budgets.take(str(sid), self._budget, time.time())
            if wait > 0:
                error: InnerCircleError = RateLimited(
                    "Too many requests on this connection; slow down", wait
                )
                return await self._refuse(str(sid), name, error)
        handler = (
            getattr(self, f"on_{event}", None)
            if isinstance(event, str) and event.isidentifier() and event not in RESERVED_EVENTS
            else None
        )
        if handler is None:
            error = ValidationFailed(f"Unknown event {name!r}; see docs/api.md")
            return await self._refuse(str(sid), name, error)
        try:
            reject_binary(list(args[1:]))
        except ValidationFailed as exc:
            return await self._refuse(str(sid), name, exc)
        try:
            await self._authorise(str(sid), event)
        except GrantEnded as ended:
            self._end_soon(str(sid), ended.error)
            return await self._refuse(str(sid), name, ended.error)
        except InnerCircleError as exc:  # the database is unavailable: refuse, keep open
            return await self._refuse(str(sid), name, exc)
        return await handler(sid, payload)

    async def _refuse(self, sid: str, event: str, error: InnerCircleError) -> dict[str, Any]:
        await self.emit(ServerEvent.ERROR, {**error.to_dict(), "event": event}, to=sid)
        return failure(error)

    async def _call(
        self,
        sid: str,
        event: str,
        model: type[M],
        data: Any,
        use_case: Callable[[UnitOfWork, Actor, M], Awaitable[dict[str, Any]]],
        *,
        write: bool = False,
        spend: bool = False,
    ) -> dict[str, Any]:
        """Parse ``data`` as ``model``, run ``use_case`` in one unit of work, commit, ack.
        ``spend``: the event costs from the member's message bucket (server/limits)."""

        async def run(actor: Actor) -> dict[str, Any]:
            body = parse(model, data)
            if spend and self._limits is not None:
                await self._limits.message_sent(actor.id)
            async with self._uows.write() if write else self._uows.read() as uow:
                fields = await use_case(uow, actor, body)
                await uow.commit()
            return success(**fields)

        return await self._handle(sid, event, run)

    async def _handle(
        self, sid: str, event: str, run: Callable[[Actor], Awaitable[dict[str, Any]]]
    ) -> dict[str, Any]:
        grant = self._grants.get(sid)
        actor = grant.actor if grant is not None else None
        try:
            if actor is None:
                raise Unauthenticated("Not signed in")
            return await run(actor)
        except InnerCircleError as exc:
            error = exc
        except Exception:
            log.exception("unexpected error handling %s", event)
            error = InnerCircleError("Internal server error", ErrorCode.INTERNAL)
        await self.emit(ServerEvent.ERROR, {**error.to_dict(), "event": event}, to=sid)
        return failure(error)


_background: set[asyncio.Task[None]] = set()
