"""Sessions: login, refresh-token rotation, logout, and who a token belongs to."""

from __future__ import annotations

import uuid
from datetime import timedelta

from inner_circle.core.actor import Actor
from inner_circle.core.errors import ErrorCode, Forbidden, Unauthenticated
from inner_circle.protocol.rest import LoginIn, TokenPair
from inner_circle.server.db.models import RefreshToken, User
from inner_circle.server.db.uow import UnitOfWork
from inner_circle.server.repositories import tokens as tokens_repo
from inner_circle.server.repositories import users as users_repo
from inner_circle.server.security import hash_refresh_token
from inner_circle.server.services import grants
from inner_circle.server.services.views import user_out

__all__ = ["actor_of", "authenticate", "login", "logout", "refresh"]

BAD_LOGIN = "Invalid username or password"


async def login(uow: UnitOfWork, body: LoginIn) -> TokenPair:
    """Check the password and open a new session.

    Guarantees: the same answer and timing for an unknown username and a wrong
    password; a seed-era bcrypt hash is replaced by argon2id on success.

    Raises:
        Unauthenticated(INVALID_CREDENTIALS); Forbidden(ACCOUNT_DEACTIVATED).
    """
    user = await users_repo.by_username(uow.session, body.username)
    valid, new_hash = await uow.ctx.passwords.verify(
        body.password, user.password_hash if user else None
    )
    if user is None or not valid:
        raise Unauthenticated(BAD_LOGIN, ErrorCode.INVALID_CREDENTIALS)
    if not user.is_active:
        raise Forbidden("This account has been deactivated", ErrorCode.ACCOUNT_DEACTIVATED)
    if new_hash is not None:
        user.password_hash = new_hash
    return await _issue(uow, user, family_id=uuid.uuid4())


async def refresh(uow: UnitOfWork, token: str) -> TokenPair:
    """Swap a refresh token for a new pair; the old refresh token stops working.

    Guarantees: presenting an already-used refresh token (a stolen copy, or the
    victim after a theft) revokes that whole session family.

    Raises: Unauthenticated(TOKEN_INVALID); Forbidden(ACCOUNT_DEACTIVATED).
    """
    now = uow.ctx.clock.now()
    stored = await tokens_repo.by_hash(uow.session, hash_refresh_token(token))
    invalid = Unauthenticated("The refresh token is invalid or expired", ErrorCode.TOKEN_INVALID)
    if stored is None or stored.revoked_at is not None or stored.expires_at <= now:
        raise invalid
    if stored.used_at is not None:
        await tokens_repo.revoke_family(uow.session, stored.family_id, now)
        await uow.commit()  # the revocation must stick even though this call fails
        raise invalid
    user = await users_repo.by_id(uow.session, stored.user_id)
    if user is None or not user.is_active:
        raise Forbidden("This account has been deactivated", ErrorCode.ACCOUNT_DEACTIVATED)
    stored.used_at = now
    return await _issue(uow, user, family_id=stored.family_id)


async def logout(uow: UnitOfWork, token: str) -> None:
    """End the session the refresh token belongs to: its refresh and access tokens stop
    working and its live connections close. Unknown tokens are ignored."""
    stored = await tokens_repo.by_hash(uow.session, hash_refresh_token(token))
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


async def _issue(uow: UnitOfWork, user: User, *, family_id: uuid.UUID) -> TokenPair:
    now = uow.ctx.clock.now()
    tokens = uow.ctx.tokens
    refresh_token = tokens.new_refresh_token()
    uow.session.add(
        RefreshToken(
            user_id=user.id,
            token_hash=hash_refresh_token(refresh_token),
            family_id=family_id,
            created_at=now,
            expires_at=now + timedelta(seconds=tokens.refresh_ttl),
        )
    )
    return TokenPair(
        access_token=tokens.issue_access(
            user.id, user.username, user.token_version, now, session_id=family_id
        ),
        refresh_token=refresh_token,
        expires_in=tokens.access_ttl,
        user=user_out(user, online=await uow.ctx.presence.is_online(user.id)),
    )
