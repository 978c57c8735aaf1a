"""Sending one push: Web Push (RFC 8030 + VAPID + RFC 8291) and FCM HTTP v1.

Both retry 429 and 5xx answers (and network errors) with exponential backoff, honouring
a ``Retry-After`` up to a cap; 404 and 410 mean the subscription or token is gone for
good. Redirects are never followed: a push service has no reason to send one, and a
redirect is a way around the endpoint check.
"""

from __future__ import annotations

import asyncio
import enum
import json
import logging
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import jwt

from inner_circle.server.push.crypto import encrypt_payload
from inner_circle.server.push.endpoints import EndpointRefused, Resolver, check_endpoint
from inner_circle.server.push.vapid import VapidKey

__all__ = ["FcmSender", "Outcome", "RetryPolicy", "WebPushMessage", "WebPushSender"]

log = logging.getLogger(__name__)
MAX_RETRY_AFTER = 60.0
FCM_SCOPE = "https://www.googleapis.com/auth/firebase.messaging"


class Outcome(enum.Enum):
    SENT = "sent"
    GONE = "gone"  # the subscription or token no longer exists: forget it
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    attempts: int = 3
    base_seconds: float = 1.0

    def delay(self, attempt: int, response: httpx.Response | None) -> float:
        if response is not None:
            header = response.headers.get("retry-after", "")
            if header.strip().isdigit():
                return min(float(header), MAX_RETRY_AFTER)
        return min(self.base_seconds * (2**attempt), MAX_RETRY_AFTER)


async def _with_retries(
    policy: RetryPolicy, attempt_once: Callable[[], Awaitable[httpx.Response]], what: str
) -> tuple[Outcome, httpx.Response | None]:
    response: httpx.Response | None = None
    for attempt in range(policy.attempts):
        try:
            response = await attempt_once()
        except EndpointRefused as exc:
            log.warning("push to %s refused: %s", what, exc.message)
            return Outcome.FAILED, None
        except httpx.HTTPError as exc:
            log.info("push to %s: %s (attempt %d)", what, type(exc).__name__, attempt + 1)
            response = None
        else:
            status = response.status_code
            if 200 <= status < 300:
                return Outcome.SENT, response
            if status in (404, 410):
                return Outcome.GONE, response
            if status != 429 and status < 500:
                log.warning("push to %s answered %d", what, status)
                return Outcome.FAILED, response
        if attempt + 1 < policy.attempts:
            await asyncio.sleep(policy.delay(attempt, response))  # backoff, not synchronisation
    return Outcome.FAILED, response


@dataclass(frozen=True, slots=True)
class WebPushMessage:
    endpoint: str
    p256dh: str
    auth: str
    payload: bytes
    ttl: int
    urgency: str  # very-low | low | normal | high
    topic: str | None


class WebPushSender:
    """Sends Web Push messages; the encryption runs on ``executor`` (off the event loop)."""

    def __init__(
        self,
        vapid: VapidKey,
        client: httpx.AsyncClient,
        executor: Executor,
        *,
        policy: RetryPolicy,
        resolver: Resolver | None = None,
        allow_loopback: bool = False,
    ) -> None:
        self._vapid = vapid
        self._client = client
        self._executor = executor
        self._policy = policy
        self._resolver = resolver
        self._allow_loopback = allow_loopback

    async def send(self, message: WebPushMessage) -> Outcome:
        loop = asyncio.get_running_loop()
        body = await loop.run_in_executor(
            self._executor, encrypt_payload, message.payload, message.p256dh, message.auth
        )

        async def once() -> httpx.Response:
            # Checked again before every attempt: DNS may answer differently by now.
            options: dict[str, Any] = {"allow_loopback": self._allow_loopback}
            if self._resolver is not None:
                options["resolver"] = self._resolver
            checked = await check_endpoint(message.endpoint, **options)
            default_port = 443 if checked.scheme == "https" else 80
            authority = (
                checked.host if checked.port == default_port else f"{checked.host}:{checked.port}"
            )
            address = checked.addresses[0]
            literal = f"[{address}]" if ":" in address else address
            headers = {
                "Host": authority,
                "TTL": str(message.ttl),
                "Urgency": message.urgency,
                "Content-Encoding": "aes128gcm",
                "Content-Type": "application/octet-stream",
                "Authorization": self._vapid.authorization(f"{checked.scheme}://{authority}"),
            }
            if message.topic:
                headers["Topic"] = message.topic
            return await self._client.post(
                f"{checked.scheme}://{literal}:{checked.port}{checked.path}",
                content=body,
                headers=headers,
                extensions={"sni_hostname": checked.host},
                follow_redirects=False,
            )

        outcome, _ = await _with_retries(self._policy, once, "a web push endpoint")
        return outcome


class FcmSender:
    """FCM HTTP v1 with a service account: an OAuth 2 access token from a signed JWT
    (the JWT-bearer grant at the account's ``token_uri``), cached until near expiry."""

    def __init__(
        self,
        account: dict[str, Any],
        url_template: str,
        client: httpx.AsyncClient,
        policy: RetryPolicy,
    ) -> None:
        self._account = account
        self._url = url_template.format(project_id=account["project_id"])
        self._client = client
        self._policy = policy
        self._token: tuple[str, float] | None = None
        self._lock = asyncio.Lock()

    @classmethod
    def from_file(
        cls, path: Path, url_template: str, client: httpx.AsyncClient, policy: RetryPolicy
    ) -> FcmSender:
        account = json.loads(path.read_text())
        for field in ("project_id", "client_email", "private_key", "token_uri"):
            if not isinstance(account.get(field), str):
                raise ValueError(f"the FCM service-account file has no {field}")
        return cls(account, url_template, client, policy)

    async def _access_token(self) -> str:
        async with self._lock:
            now = time.time()
            if self._token is not None and self._token[1] - 60 > now:
                return self._token[0]
            assertion = jwt.encode(
                {
                    "iss": self._account["client_email"],
                    "scope": FCM_SCOPE,
                    "aud": self._account["token_uri"],
                    "iat": int(now),
                    "exp": int(now) + 3600,
                },
                self._account["private_key"],
                algorithm="RS256",
                headers={"kid": self._account.get("private_key_id", "")},
            )
            response = await self._client.post(
                self._account["token_uri"],
                data={
                    "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
                    "assertion": assertion,
                },
                follow_redirects=False,
            )
            response.raise_for_status()
            answer = response.json()
            self._token = (str(answer["access_token"]), now + float(answer.get("expires_in", 3600)))
            return self._token[0]

    async def send(self, message: dict[str, Any]) -> Outcome:
        async def once() -> httpx.Response:
            token = await self._access_token()
            return await self._client.post(
                self._url,
                json={"message": message},
                headers={"Authorization": f"Bearer {token}"},
                follow_redirects=False,
            )

        outcome, response = await _with_retries(self._policy, once, "FCM")
        if outcome is Outcome.FAILED and response is not None and response.status_code == 400:
            if "UNREGISTERED" in response.text or "registration token" in response.text:
                return Outcome.GONE
        return outcome
