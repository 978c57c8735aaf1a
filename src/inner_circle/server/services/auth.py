"""Sessions: login, refresh-token rotation, logout, and who a token belongs to."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from inner_circle.core.actor import Actor
from inner_circle.core.errors import ErrorCode, Forbidden, Unauthenticated
from inner_circle.protocol.rest import LoginIn, TokenPair
from inner_circle.server.db.models import RefreshToken, User
from inner_circle.server.db.uow import UnitOfWork, UnitOfWorkFactory
from inner_circle.server.repositories import tokens as tokens_repo
from inner_circle.server.repositories import users as users_repo
from inner_circle.server.repositories.users import MemberRow
from inner_circle.server.security import hash_refresh_token
from inner_circle.server.services import grants
from inner_circle.server.services.views import user_out

__all__ = ["actor_of", "authenticate", "login", "logout", "refresh"]

BAD_LOGIN = "Invalid username or password"


async def login(uows: UnitOfWorkFactory, body: LoginIn) -> TokenPair:
    """Check the password and open a new session.

    Guarantees: the same answer and timing for an unknown username and a wrong
    password; a seed-era bcrypt hash is replaced by argon2id on success. The password is
    checked between two units of work, not inside one: a hash takes about 0.1 s of CPU,
    and a transaction open meanwhile held SQLite's only writer (every message waited) and
    a pooled connection. The session opens only if the password checked is still the
    member's (changed meanwhile: refused like a wrong one).

    Raises:
        Unauthenticated(INVALID_CREDENTIALS); Forbidden(ACCOUNT_DEACTIVATED).
    """
    async with uows.read() as uow:
        found = await users_repo.credentials(uow.session, body.username)
        user_id, checked = found if found else (None, None)
    valid, new_hash = await uows.ctx.passwords.verify(body.password, checked)
    if user_id is None or not valid:
        raise Unauthenticated(BAD_LOGIN, ErrorCode.INVALID_CREDENTIALS)
    async with uows.write() as uow:
        user = await users_repo.member_row(uow.session, user_id)
        if user is None or user.password_hash != checked:
            raise Unauthenticated(BAD_LOGIN, ErrorCode.INVALID_CREDENTIALS)
        if not user.is_active:
            raise Forbidden("This account has been deactivated", ErrorCode.ACCOUNT_DEACTIVATED)
        if new_hash is not None:
            await users_repo.set_password_hash(uow.session, user_id, new_hash)
        pair = await _issue(
            uow, user, family_id=uuid.uuid4(), secret=uow.ctx.tokens.new_refresh_secret()
        )
        await uow.commit()
    return pair


async def refresh(uow: UnitOfWork, token: str) -> TokenPair:
    """Swap a refresh token for a new pair; the old refresh token stops working.

    Guarantees: presenting an already-used refresh token (a stolen copy, or the
    victim after a theft) revokes that whole session family, except within
    ``refresh_reuse_grace_seconds`` of its rotation while its successor is still
    unused: that is a retry whose answer was lost (a phone between networks), and it
    gets the very same pair again. A seed-era or forged refresh JWT is refused.

    Raises: Unauthenticated(TOKEN_INVALID); Forbidden(ACCOUNT_DEACTIVATED).
    """
    now = uow.ctx.clock.now()
    claims = uow.ctx.tokens.decode_refresh(token)
    stored = await tokens_repo.by_hash(uow.session, hash_refresh_token(claims.secret))
    invalid = Unauthenticated("The refresh token is invalid or expired", ErrorCode.TOKEN_INVALID)
    if stored is None or stored.revoked_at is not None or stored.expires_at <= now:
        raise invalid
    if claims.user_id is not None and claims.user_id != stored.user_id:
        raise invalid
    if stored.used_at is not None:
        again = await _retry_within_grace(uow, stored, claims.secret)
        if again is not None:
            return again
        await tokens_repo.revoke_family(uow.session, stored.family_id, now)
        uow.disconnect_session(stored.family_id)  # the thief's sockets too, on every process
        await uow.commit()  # the revocation must stick even though this call fails
        raise invalid
    user = await _active_user(uow, stored.user_id)
    stored.used_at = now
    successor = uow.ctx.tokens.successor_secret(claims.secret)
    return await _issue(uow, user, family_id=stored.family_id, secret=successor)


async def _retry_within_grace(uow: UnitOfWork, used: RefreshToken, secret: str) -> TokenPair | None:
    """The pair ``used`` was swapped for, when this is a retry of that swap: within the
    grace period, and the new refresh token was never used. None otherwise."""
    grace = timedelta(seconds=uow.ctx.settings.refresh_reuse_grace_seconds)
    assert used.used_at is not None
    if uow.ctx.clock.now() - used.used_at > grace:
        return None
    successor_secret = uow.ctx.tokens.successor_secret(secret)
    successor = await tokens_repo.by_hash(uow.session, hash_refresh_token(successor_secret))
    if successor is None or successor.used_at is not None or successor.revoked_at is not None:
        return None
    user = await _active_user(uow, used.user_id)
    return await _pair(
        uow, user, used.family_id, successor_secret, successor.created_at, successor.expires_at
    )


async def _active_user(uow: UnitOfWork, user_id: uuid.UUID) -> MemberRow:
    user = await users_repo.member_row(uow.session, user_id)
    if user is None or not user.is_active:
        raise Forbidden("This account has been deactivated", ErrorCode.ACCOUNT_DEACTIVATED)
    return user


async def logout(uow: UnitOfWork, token: str) -> None:
    """End the session the refresh token belongs to: its refresh and access tokens stop
    working and its live connections close. Unknown tokens are ignored."""
    try:
        secret = uow.ctx.tokens.decode_refresh(token).secret
    except Unauthenticated:
        return
    stored = await tokens_repo.by_hash(uow.session, hash_refresh_token(secret))
    if stored is not None:
        await tokens_repo.revoke_family(uow.session, stored.family_id, uow.ctx.clock.now())
        uow.disconnect_session(stored.family_id)


async def authenticate(uow: UnitOfWork, access_token: str) -> Actor:
    """The active member an access token belongs to.

    Raises: Unauthenticated(TOKEN_INVALID) for a bad, expired or superseded token
    (password change, reset, deactivation) or one whose session logged out;
    Forbidden(ACCOUNT_DEACTIVATED).
    """
    return await grants.confirm(uow, uow.ctx.tokens.decode_access(access_token))


def actor_of(user: User, session_id: uuid.UUID | None = None) -> Actor:
    return Actor(
        id=user.id,
        username=user.username,
        display_name=user.shown_name,
        is_admin=user.is_admin,
        session_id=session_id,
    )


async def _issue(
    uow: UnitOfWork, user: MemberRow, *, family_id: uuid.UUID, secret: str
) -> TokenPair:
    """Store ``secret`` (hashed) as the session's current refresh token; return the pair."""
    now = uow.ctx.clock.now()
    expires = now + timedelta(seconds=uow.ctx.tokens.refresh_ttl)
    await tokens_repo.add_refresh_token(
        uow.session,
        user_id=user.id,
        token_hash=hash_refresh_token(secret),
        family_id=family_id,
        created_at=now,
        expires_at=expires,
    )
    return await _pair(uow, user, family_id, secret, now, expires)


async def _pair(
    uow: UnitOfWork,
    user: MemberRow,
    family_id: uuid.UUID,
    secret: str,
    issued: datetime,
    expires: datetime,
) -> TokenPair:
    """The answer for a session whose refresh secret is ``secret``: the same inputs give the
    same tokens (signing is deterministic), which makes a retried refresh idempotent."""
    tokens = uow.ctx.tokens
    return TokenPair(
        access_token=tokens.issue_access(
            user.id, user.username, user.token_version, issued, session_id=family_id
        ),
        refresh_token=tokens.issue_refresh(secret, user.id, user.username, issued, expires),
        expires_in=tokens.access_ttl,
        user=user_out(user, online=await uow.ctx.presence.is_online(user.id)),
    )
