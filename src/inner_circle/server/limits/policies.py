"""The abuse limits Inner Circle enforces, called by the edges before a use case runs.

* **Login**: per username and per client address, a few free attempts, then each
  further attempt waits twice as long as the previous one (capped). A success
  clears the username's count and takes back its own count from the address.
  Even the right password is refused while locked: otherwise the lock would not
  slow down a guesser at all.
* **Registration**: attempts per address through a token bucket, and wrong
  invitation codes per address through a lockout (codes are secrets worth guessing).
* **Messages**: a token bucket per member, shared by REST and Socket.IO.

Services stay unaware of all this: the limits are an edge concern, like the
client address they key on. Every limit is set in :class:`Settings`; 0 disables it.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from inner_circle.core.errors import ErrorCode, InnerCircleError, InvalidInvitation, RateLimited
from inner_circle.server.limits.backends import (
    Bucket,
    LimitBackend,
    Lockout,
    MemoryBackend,
    RedisBackend,
)
from inner_circle.server.settings import Settings

__all__ = ["Limits", "build_limits"]

TOO_MANY_LOGINS = "Too many sign-in attempts; wait a moment and try again"
TOO_MANY_REGISTRATIONS = "Too many attempts to join; wait a moment and try again"
TOO_MANY_MESSAGES = "You are sending messages too fast; wait a moment"


class Limits:
    """Rate limits bound to a backend; one instance per server process."""

    def __init__(
        self, settings: Settings, backend: LimitBackend, now: Callable[[], float] = time.time
    ) -> None:
        self.backend = backend
        self._now = now
        self.enabled = settings.rate_limits_enabled
        self.login_user = Lockout(
            settings.limit_login_free_attempts,
            settings.limit_lockout_base_seconds,
            settings.limit_lockout_max_seconds,
            settings.limit_failure_window_seconds,
        )
        self.login_address = Lockout(
            settings.limit_login_address_free_attempts,
            settings.limit_lockout_base_seconds,
            settings.limit_lockout_max_seconds,
            settings.limit_failure_window_seconds,
        )
        self.invite_address = Lockout(
            settings.limit_invite_free_failures,
            settings.limit_lockout_base_seconds,
            settings.limit_lockout_max_seconds,
            settings.limit_failure_window_seconds,
        )
        self.register_address = Bucket(
            settings.limit_register_burst, settings.limit_register_per_minute / 60
        )
        self.messages = Bucket(settings.limit_message_burst, settings.limit_message_per_second)

    # --- login ----------------------------------------------------------------------

    @asynccontextmanager
    async def login_attempt(self, username: str, address: str | None) -> AsyncIterator[None]:
        """Count a sign-in attempt; raise RateLimited while the username or address is locked.

        The body runs the login. Wrong credentials keep the count; any other outcome
        (success, a deactivated account, a database outage) forgives the attempt.
        """
        counted: list[tuple[str, Lockout]] = []
        keys = [(f"login:user:{username.strip().casefold()}", self.login_user)]
        if address:
            keys.append((f"login:addr:{address}", self.login_address))
        for key, lockout in keys:
            if not (self.enabled and lockout.enabled):
                continue
            wait = await self.backend.attempt(key, lockout, self._now())
            if wait > 0:
                await self._forgive(counted, success=False)
                raise RateLimited(TOO_MANY_LOGINS, wait)
            counted.append((key, lockout))
        try:
            yield
        except InnerCircleError as exc:
            if exc.code != ErrorCode.INVALID_CREDENTIALS:
                await self._forgive(counted, success=False)
            raise
        except BaseException:
            await self._forgive(counted, success=False)
            raise
        await self._forgive(counted, success=True)

    # --- registration ---------------------------------------------------------------

    @asynccontextmanager
    async def registration_attempt(self, address: str | None) -> AsyncIterator[None]:
        """Count an attempt to join; a wrong invitation code keeps counting against the address."""
        counted: list[tuple[str, Lockout]] = []
        if self.enabled and address:
            if self.register_address.enabled:
                wait = await self.backend.take(
                    f"register:addr:{address}", self.register_address, self._now()
                )
                if wait > 0:
                    raise RateLimited(TOO_MANY_REGISTRATIONS, wait)
            if self.invite_address.enabled:
                key = f"invite:addr:{address}"
                wait = await self.backend.attempt(key, self.invite_address, self._now())
                if wait > 0:
                    raise RateLimited(TOO_MANY_REGISTRATIONS, wait)
                counted.append((key, self.invite_address))
        try:
            yield
        except InvalidInvitation:
            raise
        except BaseException:
            await self._forgive(counted, success=False)
            raise
        await self._forgive(counted, success=False)

    # --- messages -------------------------------------------------------------------

    async def message_sent(self, user_id: uuid.UUID) -> None:
        """Take a token from the member's message bucket; RateLimited when it is empty."""
        if not (self.enabled and self.messages.enabled):
            return
        wait = await self.backend.take(f"messages:{user_id}", self.messages, self._now())
        if wait > 0:
            raise RateLimited(TOO_MANY_MESSAGES, wait)

    # --- plumbing -------------------------------------------------------------------

    async def _forgive(self, counted: list[tuple[str, Lockout]], *, success: bool) -> None:
        for key, lockout in counted:
            # A successful login clears its username; an address only gets its one attempt back.
            await self.backend.forgive(
                key, lockout, reset=success and key.startswith("login:user:")
            )

    async def close(self) -> None:
        await self.backend.close()


def build_limits(settings: Settings, redis_client: Any | None = None) -> Limits:
    """Limits on Redis when the server has a Redis client (shared by processes), else in memory."""
    if redis_client is not None:
        return Limits(settings, RedisBackend(redis_client, settings.redis_key_prefix))
    return Limits(settings, MemoryBackend())
