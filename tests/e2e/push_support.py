"""Driving the service worker's push handling from a test: DevTools delivers a push
(``ServiceWorker.deliverPushMessage``) and ``registration.getNotifications()`` tells what
is on screen."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from contextlib import AsyncExitStack, contextmanager
from typing import Any, TypeVar

import httpx

from tests.e2e.conftest import PHONE, api_token, sign_in
from tests.push.conftest import PushReceiver, Received, Subscription, serve_receiver

T = TypeVar("T")
# A server that may push to the tests' local push service (plain http on loopback).
PUSH_TO_LOOPBACK = {"INNER_CIRCLE_MODE": "development", "INNER_CIRCLE_PUSH_ALLOW_LOOPBACK": "1"}


def signed_in(new_page: Any, who: dict[str, Any], server: Any) -> tuple[Any, Any, str]:
    """``who`` signed in on a phone with notifications allowed: the page, a DevTools
    session and the service worker's registration id (for :func:`deliver`)."""
    page = new_page(viewport=PHONE, server=server)
    page.context.grant_permissions(["notifications"], origin=server.url)
    sign_in(page, who["username"], who["password"])
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    cdp = page.context.new_cdp_session(page)
    return page, cdp, registration_id(cdp, page)


def registration_id(cdp: Any, page: Any) -> str:
    """The service worker registration's id, from the DevTools protocol."""
    found: dict[str, str] = {}

    def seen(event: dict[str, Any]) -> None:
        for reg in event.get("registrations", []):
            if not reg.get("isDeleted"):
                found["id"] = reg["registrationId"]

    cdp.on("ServiceWorker.workerRegistrationUpdated", seen)
    cdp.send("ServiceWorker.enable")
    deadline = time.monotonic() + 10
    while "id" not in found and time.monotonic() < deadline:
        page.wait_for_timeout(50)  # let CDP events in, bounded by the deadline
    assert "id" in found, "no service worker registration"
    return found["id"]


def notifications(page: Any) -> list[dict[str, Any]]:
    """What the service worker registration shows now (``getNotifications()``)."""
    return list(
        page.evaluate(
            """() => navigator.serviceWorker.ready.then((r) => r.getNotifications()).then((ns) =>
                 ns.map((n) => ({title: n.title, body: n.body, tag: n.tag, data: n.data, icon: n.icon,
                   actions: (n.actions || []).map((a) => a.action),
                   requireInteraction: n.requireInteraction})))"""
        )
    )


def deliver(cdp: Any, origin: str, registration: str, payload: dict[str, Any]) -> None:
    """A push with ``payload`` (JSON), as a push service would deliver it."""
    cdp.send(
        "ServiceWorker.deliverPushMessage",
        {"origin": origin, "registrationId": registration, "data": json.dumps(payload)},
    )


def wait_for_notifications(
    page: Any, ok: Callable[[list[dict[str, Any]]], bool], what: str, timeout: float = 10
) -> list[dict[str, Any]]:
    """Polls what is shown until ``ok`` holds (bounded by ``timeout``); returns it."""
    deadline = time.monotonic() + timeout
    while True:
        shown = notifications(page)
        if ok(shown):
            return shown
        assert time.monotonic() < deadline, f"{what}; shown: {shown}"
        page.wait_for_timeout(50)  # polling a condition, bounded by the deadline


class ReceiverThread:
    """A :class:`PushReceiver` on an event loop of its own thread, for the synchronous
    browser tests: ``run(coroutine)`` runs one of its coroutines there and waits."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.stack = AsyncExitStack()
        self.receiver: PushReceiver = self.run(self.stack.enter_async_context(serve_receiver()))

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float = 30) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def subscribe_phone(self, url: str, who: dict[str, Any]) -> Subscription:
        """``who``'s phone with the app closed (a session of its own, never connected),
        subscribed to this receiver: the server's pushes for ``who`` arrive here."""
        self.receiver.vapid_public_key = httpx.get(f"{url}/push/config").json()["vapidPublicKey"]
        phone = api_token(url, who["username"], who["password"])
        sub = self.receiver.new()
        subscribed = httpx.post(
            f"{url}/push/subscriptions",
            json=sub.to_json(),
            headers={"Authorization": f"Bearer {phone}"},
        )
        assert subscribed.status_code == 201, subscribed.text
        return sub

    def wait_for(self, sub: Subscription, count: int = 1) -> list[Received]:
        """The first ``count`` pushes to ``sub``, checked and decrypted."""
        return self.run(self.receiver.wait_for(sub.name, count))

    def close(self) -> None:
        self.run(self.stack.aclose())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@contextmanager
def push_receiver() -> Iterator[ReceiverThread]:
    """A local push service (tests/push/conftest.py) for a server that may push to loopback."""
    thread = ReceiverThread()
    try:
        yield thread
    finally:
        thread.close()
