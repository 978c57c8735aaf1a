"""A local push service and a fake FCM for the push tests: real keys, real crypto.

The push service holds, per subscription, a real P-256 key pair and auth secret (as a
browser does); it verifies each request's VAPID JWT with the server's public key and
decrypts the payload (RFC 8291, aes128gcm) with ``http_ece``. Plain http on loopback
is allowed by ``INNER_CIRCLE_PUSH_ALLOW_LOOPBACK`` (``push_allow_loopback``), which
only development mode accepts.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import time
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import http_ece
import jwt
import pytest
import pytest_asyncio
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from inner_circle.core.clock import Clock
from inner_circle.sdk import InnerCircleClient
from inner_circle.server.push.endpoints import Resolver
from tests.support import Family, Samples, ThreadedServer, make_settings, metrics_samples


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Received:
    headers: dict[str, str]
    claims: dict[str, Any]
    payload: dict[str, Any]


@dataclass
class Subscription:
    name: str
    endpoint: str
    key: ec.EllipticCurvePrivateKey
    auth: bytes

    def to_json(self) -> dict[str, Any]:
        public = self.key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return {
            "endpoint": self.endpoint,
            "expirationTime": None,
            "keys": {"p256dh": b64url(public), "auth": b64url(self.auth)},
        }


@dataclass
class PushReceiver:
    """A Web Push service on loopback that checks and decrypts what it is sent."""

    url: str = ""
    vapid_public_key: str = ""  # the server's, from GET /push/config
    subs: dict[str, Subscription] = field(default_factory=dict)
    received: dict[str, list[Received]] = field(default_factory=lambda: defaultdict(list))
    attempts: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    answers: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    errors: list[str] = field(default_factory=list)
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)

    def new(self, name: str | None = None, *, host: str | None = None) -> Subscription:
        """A browser's subscription; ``host`` names the push service in the endpoint (the
        server's resolver must then send that name to this receiver's address)."""
        name = name or uuid.uuid4().hex[:12]
        base = self.url if host is None else self.url.replace("127.0.0.1", host)
        sub = Subscription(
            name, f"{base}/push/{name}", ec.generate_private_key(ec.SECP256R1()), os.urandom(16)
        )
        self.subs[name] = sub
        return sub

    async def handle(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        self.attempts[name] += 1
        body = await request.read()
        planned = self.answers[name]
        status = planned.pop(0) if planned else 201
        if status != 201:
            # A redirect points at the loopback metadata port: it must never be followed.
            return web.Response(
                status=status, headers={"Retry-After": "0", "Location": f"{self.url}/push/evil"}
            )
        try:
            received = self._check(name, request, body)
        except Exception as exc:  # recorded: the test fails on any
            self.errors.append(f"{name}: {type(exc).__name__}: {exc}")
            return web.Response(status=400)
        async with self.changed:
            self.received[name].append(received)
            self.changed.notify_all()
        return web.Response(status=201)

    def _check(self, name: str, request: web.Request, body: bytes) -> Received:
        sub = self.subs[name]
        scheme, _, params = request.headers["Authorization"].partition(" ")
        assert scheme == "vapid", scheme
        parts = dict(p.strip().split("=", 1) for p in params.split(","))
        assert parts["k"] == self.vapid_public_key, "k is not the server's VAPID key"
        public = ec.EllipticCurvePublicKey.from_encoded_point(
            ec.SECP256R1(), b64url_decode(parts["k"])
        )
        origin = urlsplit(sub.endpoint)
        audience = f"{origin.scheme}://{origin.netloc}"
        claims = jwt.decode(parts["t"], public, algorithms=["ES256"], audience=audience)
        assert claims["exp"] > time.time() and claims["exp"] <= time.time() + 24 * 3600
        assert str(claims["sub"]).startswith(("mailto:", "https:"))
        assert request.headers["Content-Encoding"] == "aes128gcm"
        plain = http_ece.decrypt(
            body, private_key=sub.key, auth_secret=sub.auth, version="aes128gcm"
        )
        return Received(dict(request.headers), claims, json.loads(plain))

    async def wait_for(self, name: str, count: int = 1, timeout: float = 10.0) -> list[Received]:
        async def enough() -> None:
            async with self.changed:
                await self.changed.wait_for(lambda: len(self.received[name]) >= count)

        await asyncio.wait_for(enough(), timeout)
        assert not self.errors, self.errors
        return self.received[name]


@asynccontextmanager
async def serve_receiver() -> AsyncIterator[PushReceiver]:
    """A :class:`PushReceiver` listening on loopback (on the running loop)."""
    push = PushReceiver()
    app = web.Application()
    app.router.add_post("/push/{name}", push.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    push.url = f"http://127.0.0.1:{port}"
    try:
        yield push
    finally:
        await runner.cleanup()


@pytest_asyncio.fixture
async def receiver() -> AsyncIterator[PushReceiver]:
    async with serve_receiver() as push:
        yield push


PUSH_SETTINGS: dict[str, Any] = {
    "mode": "development",
    "push_allow_loopback": True,
    "push_workers": 1,  # one sender: pushes leave in commit order, so "not sent" is testable
    "push_retry_base_seconds": 0.05,
}

StartPush = Callable[..., Awaitable[Family]]


@pytest_asyncio.fixture
async def push_family(
    database_url: str, tmp_path: Path, receiver: PushReceiver
) -> AsyncIterator[StartPush]:
    """``await push_family(**settings)``: a live server that may push to ``receiver``
    (``resolver=`` answers its DNS lookups, ``clock=`` a clock the test moves)."""
    started: list[tuple[ThreadedServer, Family]] = []

    async def start(
        resolver: Resolver | None = None, clock: Clock | None = None, **overrides: Any
    ) -> Family:
        settings = make_settings(database_url, tmp_path, **{**PUSH_SETTINGS, **overrides})
        server = ThreadedServer(settings, clock=clock)
        if resolver is not None:  # push services named by host, all served by the receiver
            server.app.other_asgi_app.state.push._resolver = resolver
        await server.start()
        family = Family(server)
        started.append((server, family))
        config = (await family.client().request("GET", "/push/config")).json()
        receiver.vapid_public_key = config["vapidPublicKey"]
        return family

    yield start
    for server, family in reversed(started):
        await family.close()
        await server.stop()


async def subscribe(client: InnerCircleClient, sub: Subscription) -> dict[str, Any]:
    response = await client.request("POST", "/push/subscriptions", json=sub.to_json())
    assert response.status_code == 201
    return dict(response.json())


async def push_metrics(client: InnerCircleClient) -> Samples:
    """The server's ``/metrics`` now, as samples (:func:`tests.support.metric_value`)."""
    return metrics_samples((await client.request("GET", "/metrics")).text)


# --- a fake FCM HTTP v1 -------------------------------------------------------------------


@dataclass
class FakeFcm:
    url: str = ""
    key: rsa.RSAPrivateKey = field(
        default_factory=lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048)
    )
    issued: set[str] = field(default_factory=set)
    messages: list[dict[str, Any]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    unregistered: set[str] = field(default_factory=set)
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)

    def account(self) -> dict[str, Any]:
        pem = self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        return {
            "type": "service_account",
            "project_id": "family-app",
            "private_key_id": "k1",
            "private_key": pem,
            "client_email": "push@family-app.iam.example",
            "token_uri": f"{self.url}/token",
        }

    async def token(self, request: web.Request) -> web.Response:
        form = await request.post()
        try:
            assert form["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer"
            claims = jwt.decode(
                str(form["assertion"]),
                self.key.public_key(),
                algorithms=["RS256"],
                audience=f"{self.url}/token",
            )
            assert claims["iss"] == "push@family-app.iam.example"
            assert claims["scope"] == "https://www.googleapis.com/auth/firebase.messaging"
        except Exception as exc:
            self.errors.append(f"token: {exc}")
            return web.json_response({"error": "invalid_grant"}, status=400)
        token = uuid.uuid4().hex
        self.issued.add(token)
        return web.json_response(
            {"access_token": token, "expires_in": 3600, "token_type": "Bearer"}
        )

    async def send(self, request: web.Request) -> web.Response:
        bearer = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if bearer not in self.issued:
            self.errors.append("send: unknown bearer token")
            return web.json_response({"error": {"status": "UNAUTHENTICATED"}}, status=401)
        body = await request.json()
        message = body["message"]
        if message["token"] in self.unregistered:
            return web.json_response(
                {"error": {"status": "NOT_FOUND", "details": [{"errorCode": "UNREGISTERED"}]}},
                status=404,
            )
        async with self.changed:
            self.messages.append(message)
            self.changed.notify_all()
        return web.json_response({"name": f"projects/family-app/messages/{uuid.uuid4().hex}"})

    async def wait_for(self, count: int, timeout: float = 10.0) -> list[dict[str, Any]]:
        async def enough() -> None:
            async with self.changed:
                await self.changed.wait_for(lambda: len(self.messages) >= count)

        await asyncio.wait_for(enough(), timeout)
        assert not self.errors, self.errors
        return self.messages


@pytest_asyncio.fixture
async def fake_fcm() -> AsyncIterator[FakeFcm]:
    fcm = FakeFcm()
    app = web.Application()
    app.router.add_post("/token", fcm.token)
    app.router.add_post("/v1/projects/{project}/messages:send", fcm.send)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    fcm.url = f"http://127.0.0.1:{port}"
    yield fcm
    await runner.cleanup()


def fcm_settings(fcm: FakeFcm, account_file: Path) -> dict[str, Any]:
    """``push_family`` settings that send FCM pushes to ``fcm``."""
    return {
        "push_fcm_service_account_file": account_file,
        "push_fcm_url": fcm.url + "/v1/projects/{project_id}/messages:send",
    }


@pytest.fixture
def fcm_account_file(tmp_path: Path, fake_fcm: FakeFcm) -> Path:
    path = tmp_path / "service-account.json"
    path.write_text(json.dumps(fake_fcm.account()))
    return path
