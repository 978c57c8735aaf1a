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
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx

from tests.e2e.conftest import PHONE, api_token, sign_in
from tests.push.conftest import PushReceiver, Received, Subscription, serve_receiver

T = TypeVar("T")
# A server that may push to the tests' local push service (plain http on loopback).
PUSH_TO_LOOPBACK = {"INNER_CIRCLE_MODE": "development", "INNER_CIRCLE_PUSH_ALLOW_LOOPBACK": "1"}


# Chromium's getNotifications() keeps a stored notification only if the platform already
# lists it as displayed, or it was created after the read began, and deletes every other
# one from its database (content/browser/notifications/platform_notification_context_impl.cc,
# DoReadAllNotificationDataForServiceWorkerRegistration). A read between a notification's
# write and its display loses it for good: it stays on screen, and no later read lists it.
# So a test never reads while a push is being handled: ``deliver`` returns once the worker
# has finished with the push. The worker's own reads are safe: it handles one push at a
# time, and each show has resolved (the notification displayed) before the next read.
# This counter is added after the worker's own push listener, so it runs second, when
# ``pushes`` (sw.js) already holds this push's handling.
HANDLED_COUNTER = """() => {
  if (self.__pushesHandled === undefined) {
    self.__pushesHandled = 0;
    self.addEventListener('push', (event) => {
      event.waitUntil(pushes.then(() => { self.__pushesHandled += 1; }));
    });
  }
  return self.__pushesHandled;
}"""


@dataclass
class PushedWorker:
    """A page's service worker, with pushes delivered to it through DevTools
    (``ServiceWorker.deliverPushMessage``) as a push service would."""

    page: Any
    cdp: Any
    registration: str
    origin: str

    @property
    def worker(self) -> Any:
        [worker] = self.page.context.service_workers
        return worker

    def deliver(self, payload: dict[str, Any], timeout: float = 10) -> None:
        """A push with ``payload`` (JSON); returns once the worker has handled it."""
        before = self.worker.evaluate(HANDLED_COUNTER)
        self.cdp.send(
            "ServiceWorker.deliverPushMessage",
            {
                "origin": self.origin,
                "registrationId": self.registration,
                "data": json.dumps(payload),
            },
        )
        deadline = time.monotonic() + timeout
        while self.worker.evaluate("() => self.__pushesHandled") <= before:
            assert time.monotonic() < deadline, f"the worker never finished the push {payload}"
            self.page.wait_for_timeout(20)  # polling a counter, bounded by the deadline


def pushed_worker(page: Any, origin: str) -> PushedWorker:
    """The service worker of ``page`` (signed in, its worker ready), ready for pushes."""
    cdp = page.context.new_cdp_session(page)
    worker = PushedWorker(page, cdp, registration_id(cdp, page), origin)
    worker.worker.evaluate(HANDLED_COUNTER)
    return worker


def signed_in(new_page: Any, who: dict[str, Any], server: Any) -> PushedWorker:
    """``who`` signed in on a phone with notifications allowed, and its service worker."""
    page = new_page(viewport=PHONE, server=server)
    page.context.grant_permissions(["notifications"], origin=server.url)
    sign_in(page, who["username"], who["password"])
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    return pushed_worker(page, server.url)


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
    """What the service worker registration shows now (``getNotifications()``). Never
    while a push is being handled (see ``HANDLED_COUNTER``)."""
    return list(
        page.evaluate(
            """() => navigator.serviceWorker.ready.then((r) => r.getNotifications()).then((ns) =>
                 ns.map((n) => ({title: n.title, body: n.body, tag: n.tag, data: n.data, icon: n.icon,
                   actions: (n.actions || []).map((a) => a.action),
                   requireInteraction: n.requireInteraction})))"""
        )
    )


def wait_for_notifications(
    page: Any, ok: Callable[[list[dict[str, Any]]], bool], what: str, timeout: float = 10
) -> list[dict[str, Any]]:
    """Polls what is shown until ``ok`` holds (bounded by ``timeout``); returns it. Closing
    is asynchronous: a closed notification may be listed for a moment after its push."""
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
