"""Password hashing and tokens.

Hashing runs in worker threads: an argon2id hash takes ~0.1 s of CPU, and on the
event loop a burst of logins would stall every live chat.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import os
import secrets
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

import jwt
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from pwdlib.hashers.bcrypt import BcryptHasher

from inner_circle.core.errors import ErrorCode, Unauthenticated

__all__ = [
    "AccessClaims",
    "PasswordService",
    "RefreshClaims",
    "TokenService",
    "hash_refresh_token",
]

JWT_ALGORITHM = "HS256"
T = TypeVar("T")


class PasswordService:
    """argon2id for new hashes; the seed's bcrypt hashes verify and are flagged for re-hashing."""

    def __init__(self, memory_kib: int = 65536, time_cost: int = 3) -> None:
        # One lane (parallelism 1, as OWASP's argon2id settings): with argon2's default of
        # four, one hash ran on every core at once (0.33 s of CPU in 0.2 s on two cores) and
        # the semaphore below left the event loop none. Hashes made with four lanes still
        # verify, and are re-hashed with one at the member's next sign-in.
        argon2 = Argon2Hasher(memory_cost=memory_kib, time_cost=time_cost, parallelism=1)
        self._hash = PasswordHash((argon2, BcryptHasher()))
        # Hashes run one or a few at a time, leaving a core for the event loop: a burst of
        # logins must not starve message delivery (each hash takes ~0.1-0.3 s of a core).
        self._hashing = asyncio.Semaphore(max(1, (os.cpu_count() or 2) - 1))
        # Verifying against this when the user does not exist keeps the timing the same,
        # so response times do not reveal which usernames exist.
        self._dummy = self._hash.hash(secrets.token_urlsafe(16))
        self.in_progress = 0  # running or waiting for a turn (a metric)

    async def hash(self, password: str) -> str:
        return await self._in_turn(self._hash.hash, password)

    async def verify(self, password: str, stored: str | None) -> tuple[bool, str | None]:
        """Return (valid, new hash to store or None)."""
        target = stored or self._dummy
        try:
            valid, updated = await self._in_turn(self._hash.verify_and_update, password, target)
        except Exception:
            return False, None
        return (valid and stored is not None), updated

    async def _in_turn(self, work: Callable[..., T], *args: Any) -> T:
        self.in_progress += 1
        try:
            async with self._hashing:
                return await asyncio.to_thread(work, *args)
        finally:
            self.in_progress -= 1


class AccessClaims:
    __slots__ = ("expires_at", "session_id", "token_version", "user_id")

    def __init__(
        self,
        user_id: uuid.UUID,
        token_version: int,
        session_id: uuid.UUID | None = None,
        expires_at: float = float("inf"),
    ) -> None:
        self.user_id = user_id
        self.token_version = token_version
        self.session_id = session_id
        # Seconds since the epoch (the token's ``exp``): a live socket ends then.
        self.expires_at = expires_at


class RefreshClaims:
    """What a refresh token carries: the session secret (stored hashed) and, when it is one
    of our JWTs, the member it was issued to."""

    __slots__ = ("secret", "user_id")

    def __init__(self, secret: str, user_id: uuid.UUID | None) -> None:
        self.secret = secret
        self.user_id = user_id


# Access tokens whose signature and claims were checked, kept until they expire: every REST
# request and socket connection presents one, and checking it anew (base64, JSON, HMAC,
# claims) was about a twentieth of a history page's CPU. Bounded; the oldest go first.
VERIFIED_TOKENS_MAX = 4096


class TokenService:
    def __init__(self, secret: str, access_ttl: int, refresh_ttl: int) -> None:
        self._secret = secret
        self.access_ttl = access_ttl
        self.refresh_ttl = refresh_ttl
        self._verified: dict[str, AccessClaims] = {}

    def issue_access(
        self,
        user_id: uuid.UUID,
        username: str,
        token_version: int,
        now: datetime,
        session_id: uuid.UUID | None = None,
    ) -> str:
        payload: dict[str, Any] = {
            "sub": str(user_id),
            "username": username,  # the seed's payload field
            "ver": token_version,
            # The session (refresh-token family): logging out ends its access tokens too.
            **({"sid": str(session_id)} if session_id else {}),
            "iat": int(now.timestamp()),
            "exp": int((now + timedelta(seconds=self.access_ttl)).timestamp()),
            "typ": "access",
        }
        return jwt.encode(payload, self._secret, algorithm=JWT_ALGORITHM)

    def decode_access(self, token: str) -> AccessClaims:
        """The token's claims. Raises Unauthenticated(TOKEN_INVALID) for a token that is
        malformed, not ours, not an access token, or expired (PyJWT's rule: expired from
        the second ``exp`` names); a token checked before is only checked for expiry.
        Revocation is not decided here (``grants.confirm`` asks the database)."""
        claims = self._verified.get(token)
        if claims is not None:
            if claims.expires_at > time.time():
                return claims
            self._verified.pop(token, None)
            raise Unauthenticated("The access token is invalid or expired", ErrorCode.TOKEN_INVALID)
        claims = self._verify_access(token)
        if len(self._verified) >= VERIFIED_TOKENS_MAX:
            self._verified.pop(next(iter(self._verified)), None)
        self._verified[token] = claims
        return claims

    def _verify_access(self, token: str) -> AccessClaims:
        try:
            payload = jwt.decode(
                token,
                self._secret,
                algorithms=[JWT_ALGORITHM],
                options={"require": ["sub", "exp"]},
            )
            if payload.get("typ", "access") != "access":
                raise jwt.InvalidTokenError("not an access token")
            session = payload.get("sid")
            return AccessClaims(
                uuid.UUID(str(payload["sub"])),
                int(payload.get("ver", 0)),
                uuid.UUID(str(session)) if session else None,
                float(payload["exp"]),
            )
        except (jwt.PyJWTError, ValueError) as exc:
            raise Unauthenticated(
                "The access token is invalid or expired", ErrorCode.TOKEN_INVALID
            ) from exc

    @staticmethod
    def new_refresh_secret() -> str:
        return secrets.token_urlsafe(32)

    def successor_secret(self, secret: str) -> str:
        """The secret that replaces ``secret`` at rotation. Derived, not random, so a retried
        refresh (its answer lost on the way) can be given the very same pair again; without
        the server key it cannot be guessed from ``secret``."""
        digest = hmac.new(
            self._secret.encode(), b"refresh-rotation:" + secret.encode(), hashlib.sha256
        ).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def issue_refresh(
        self, secret: str, user_id: uuid.UUID, username: str, issued: datetime, expires: datetime
    ) -> str:
        """The refresh token: a JWT the seed's app can read (``sub``, ``username``, ``exp``)
        around the opaque session secret, which is all the server checks (by its hash)."""
        payload: dict[str, Any] = {
            "sub": str(user_id),
            "username": username,
            "typ": "refresh",
            "rt": secret,
            "iat": int(issued.timestamp()),
            "exp": int(expires.timestamp()),
        }
        return jwt.encode(payload, self._secret, algorithm=JWT_ALGORITHM)

    def decode_refresh(self, token: str) -> RefreshClaims:
        """The session secret inside a refresh token.

        A token without dots is a bare secret issued before refresh tokens became JWTs.
        A JWT must be ours: signed with this server's key, unexpired, ``typ`` refresh and
        holding a secret; a seed-era refresh token (``{username, sub}``) or a forged one
        is refused.
        """
        invalid = Unauthenticated(
            "The refresh token is invalid or expired", ErrorCode.TOKEN_INVALID
        )
        if "." not in token:
            return RefreshClaims(token, None)
        try:
            payload = jwt.decode(
                token,
                self._secret,
                algorithms=[JWT_ALGORITHM],
                options={"require": ["sub", "exp"]},
            )
            secret = payload.get("rt")
            if payload.get("typ") != "refresh" or not isinstance(secret, str) or not secret:
                raise invalid
            return RefreshClaims(secret, uuid.UUID(str(payload["sub"])))
        except (jwt.PyJWTError, ValueError) as exc:
            raise invalid from exc


def hash_refresh_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
