"""The abuse limits Inner Circle enforces, called by the edges before a use case runs.

* **Login**: per username and per client address, a few free attempts, then each
  further attempt waits twice as long as the previous one (capped). Every key is
  checked before any is counted, so a request refused by its address costs the
  username nothing. A success clears the username's count and takes back its
  own count from the address. Even the right password is refused while locked:
  otherwise the lock would not slow down a guesser at all.
* **Known devices**: a client that signed in as the member before (a signed
  device cookie, see :mod:`.devices`, or the same address within the cookie's
  lifetime) is counted on a counter of its own instead of the username's, so a
  username lock raised elsewhere does not keep the member out; its own wrong
  passwords still lock it, and the address limit still applies.
* **Password change**: checking the current password is a sign-in attempt under
  the same keys, so a stolen access token is not a free password oracle.
* **Registration**: attempts per address through a token bucket, and wrong
  invitation codes per address through a lockout (codes are secrets worth guessing).
* **Messages**: a token bucket per member, shared by REST and Socket.IO.
* **Calls**: starting calls, a token bucket per member; the tokenless decline route,
  per client address.

Services stay unaware of all this: the limits are an edge concern, like the
client address they key on. Every limit is set in :class:`Settings`; 0 disables it.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from inner_circle.core.errors import ErrorCode, InnerCircleError, InvalidInvitation, RateLimited
from inner_circle.server.limits.backends import (
    Bucket,
    LimitBackend,
    Lockout,
    MemoryBackend,
    RedisBackend,
)
from inner_circle.server.limits.devices import DeviceMarks, username_key
from inner_circle.server.settings import Settings

__all__ = ["Limits", "build_limits"]

TOO_MANY_LOGINS = "Too many sign-in attempts; wait a moment and try again"
TOO_MANY_REGISTRATIONS = "Too many attempts to join; wait a moment and try again"
TOO_MANY_MESSAGES = "You are sending messages too fast; wait a moment"
TOO_MANY_CALLS = "You are starting calls too fast; wait a moment"
TOO_MANY_REQUESTS = "Too many requests; wait a moment"
# Outcomes that keep the attempt counted: a wrong password, at sign-in or password change.
WRONG_SECRET = frozenset({ErrorCode.INVALID_CREDENTIALS, ErrorCode.WRONG_PASSWORD})
# A lockout key and whether a success clears it (the member's own counters) or only
# takes back its one attempt (the address, shared with others).
_Counted = tuple[str, Lockout, bool]


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
        self.calls = Bucket(settings.limit_call_burst, settings.limit_calls_per_minute / 60)
        self.public_respond = Bucket(
            settings.limit_public_respond_burst, settings.limit_public_respond_per_minute / 60
        )
        self.devices = DeviceMarks(
            settings.secret_key(), settings.limit_known_device_days * 24 * 3600
        )

    # --- login ----------------------------------------------------------------------

    def login_attempt(
        self, username: str, address: str | None, device: str | None = None
    ) -> AbstractAsyncContextManager[None]:
        """Count a sign-in attempt; raise RateLimited while one of its keys is locked.

        ``device`` is the id from a valid known-device marker (:meth:`known_device`).
        The body runs the login. Wrong credentials keep the count; any other outcome
        (success, a deactivated account, a database outage) forgives the attempt. A
        success also remembers the address for this member.
        """
        return self._secret_attempt(username, address, device, remember=True)

    def password_check(
        self, username: str, address: str | None, device: str | None = None
    ) -> AbstractAsyncContextManager[None]:
        """Count a check of a signed-in member's current password like a sign-in attempt."""
        return self._secret_attempt(username, address, device, remember=False)

    def known_device(self, username: str, cookies: Mapping[str, str]) -> str | None:
        """The device id of a valid known-device marker for ``username`` in ``cookies``."""
        return self.devices.verify(username, cookies, self._now())

    def device_cookie(self, username: str, device: str | None) -> tuple[str, str, int] | None:
        """(name, value, max-age) of the marker to set after a successful sign-in, if any."""
        if not (self.enabled and self.devices.enabled):
            return None
        name, value = self.devices.issue(username, self._now(), device)
        return name, value, int(self.devices.lifetime)

    @asynccontextmanager
    async def _secret_attempt(
        self, username: str, address: str | None, device: str | None, *, remember: bool
    ) -> AsyncIterator[None]:
        user = username_key(username)
        seen_key = f"login:seen:{user}:{address}" if address else None
        counted: list[_Counted] = []
        if self.enabled and self.login_user.enabled:
            if device is not None:
                counted.append((f"login:device:{user}:{device}", self.login_user, True))
            elif seen_key is not None and await self.backend.recalls(seen_key, self._now()):
                counted.append((f"login:known:{user}:{address}", self.login_user, True))
            else:
                counted.append((f"login:user:{user}", self.login_user, True))
        if self.enabled and self.login_address.enabled and address:
            counted.append((f"login:addr:{address}", self.login_address, False))
        if counted:
            wait = await self.backend.attempt_all(
                [(k, lock) for k, lock, _ in counted], self._now()
            )
            if wait > 0:
                raise RateLimited(TOO_MANY_LOGINS, wait)
        try:
            yield
        except InnerCircleError as exc:
            if exc.code not in WRONG_SECRET:
                await self._forgive(counted, success=False)
            raise
        except BaseException:
            await self._forgive(counted, success=False)
            raise
        await self._forgive(counted, success=True)
        if remember and seen_key is not None and self.enabled and self.devices.enabled:
            await self.backend.remember(seen_key, self.devices.lifetime, self._now())

    # --- registration ---------------------------------------------------------------

    @asynccontextmanager
    async def registration_attempt(self, address: str | None) -> AsyncIterator[None]:
        """Count an attempt to join; a wrong invitation code keeps counting against the address."""
        counted: list[_Counted] = []
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
                counted.append((key, self.invite_address, False))
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
        await self._take(f"messages:{user_id}", self.messages, TOO_MANY_MESSAGES)

    # --- calls ----------------------------------------------------------------------

    async def call_started(self, user_id: uuid.UUID) -> None:
        """Take a token from the member's call bucket (ringing someone is loud)."""
        await self._take(f"calls:{user_id}", self.calls, TOO_MANY_CALLS)

    async def call_declined_publicly(self, address: str | None) -> None:
        """The tokenless decline route, per client address."""
        await self._take(f"calls:public:{address}", self.public_respond, TOO_MANY_REQUESTS)

    async def _take(self, key: str, bucket: Bucket, message: str) -> None:
        if not (self.enabled and bucket.enabled):
            return
        wait = await self.backend.take(key, bucket, self._now())
        if wait > 0:
            raise RateLimited(message, wait)

    # --- plumbing -------------------------------------------------------------------

    async def _forgive(self, counted: list[_Counted], *, success: bool) -> None:
        for key, lockout, clear_on_success in counted:
            # A successful login clears the member's counter; an address only gets its
            # one attempt back.
            await self.backend.forgive(key, lockout, reset=success and clear_on_success)

    async def close(self) -> None:
        await self.backend.close()


def build_limits(
    settings: Settings, redis_client: Any | None = None, now: Callable[[], float] = time.time
) -> Limits:
    """Limits on Redis when the server has a Redis client (shared by processes), else in memory.

    ``now`` is the server's clock in seconds, so that tests can move it.
    """
    if redis_client is not None:
        return Limits(settings, RedisBackend(redis_client, settings.redis_key_prefix), now)
    return Limits(settings, MemoryBackend(), now)
