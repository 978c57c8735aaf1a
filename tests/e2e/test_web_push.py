"""Push in the browser: the service worker shows a pushed notification, collapses a chat's
notifications into one that counts them, and its click handler opens the chat; the
Settings screen's notifications section."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import PHONE, api_token, shot, sign_in

pytestmark = pytest.mark.browser


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
                 ns.map((n) => ({title: n.title, body: n.body, tag: n.tag, data: n.data})))"""
        )
    )


def test_push_shows_notification_and_click_opens_chat(
    live_server: Any, new_page: Any, member: Any
) -> None:
    anna = member("anna", display_name="Anna")
    boris = member("boris", display_name="Boris")
    page = new_page(viewport=PHONE)
    page.context.grant_permissions(["notifications"], origin=live_server.url)
    sign_in(page, boris["username"], boris["password"])
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    token = api_token(live_server.url, anna["username"], anna["password"])
    chat = httpx.post(
        f"{live_server.url}/chats/private",
        json={"targetUserId": boris["id"]},
        headers={"Authorization": f"Bearer {token}"},
    ).json()

    cdp = page.context.new_cdp_session(page)
    reg = registration_id(cdp, page)
    for text in ("Are you coming?", "Dinner is ready"):
        payload = {
            "type": "message",
            "chatId": chat["id"],
            "title": "Anna",
            "body": text,
            "hidden": False,
            "tag": "chat-tag-1",
            "url": f"/#/chat/{chat['id']}",
        }
        cdp.send(
            "ServiceWorker.deliverPushMessage",
            {"origin": live_server.url, "registrationId": reg, "data": json.dumps(payload)},
        )
        deadline = time.monotonic() + 10
        while not any(text in n["body"] for n in notifications(page)):
            assert time.monotonic() < deadline, f"no notification says {text!r}"
            page.wait_for_timeout(50)  # polling a condition, bounded by the deadline
    shown = notifications(page)
    assert len(shown) == 1  # one per chat, counting
    assert shown[0]["title"] == "Anna" and shown[0]["tag"] == "chat-tag-1"
    assert shown[0]["body"] == "2 new messages · Dinner is ready"
    assert shown[0]["data"]["count"] == 2

    # The click: the service worker's notificationclick handler runs on the shown
    # notification and brings the open window to that chat.
    [worker] = page.context.service_workers
    worker.evaluate(
        """() => self.registration.getNotifications().then((ns) => {
             const event = new NotificationEvent('notificationclick', { notification: ns[0] });
             try { self.dispatchEvent(event); } catch (e) { /* waitUntil on a synthetic event */ }
           })"""
    )
    expect(page).to_have_url(f"{live_server.url}/#/chat/{chat['id']}")
    expect(page.get_by_role("textbox", name="Message")).to_be_visible()


def test_settings_notifications_section(live_server: Any, new_page: Any, member: Any) -> None:
    m = member("vera", display_name="Vera")
    page = new_page(viewport=PHONE)
    page.context.grant_permissions(["notifications"], origin=live_server.url)
    sign_in(page, m["username"], m["password"])
    page.goto("/#/settings")
    section = page.locator("section[aria-labelledby='s-push']")
    expect(section.locator("[data-state]")).to_be_visible()
    show_text = page.get_by_role("checkbox", name="Show message text in notifications")
    expect(show_text).to_be_checked()
    with page.expect_response(
        lambda r: r.url.endswith("/push/preferences") and r.request.method == "PUT"
    ):
        show_text.click()
    expect(show_text).not_to_be_checked()
    token = api_token(live_server.url, m["username"], m["password"])
    prefs = httpx.get(
        f"{live_server.url}/push/preferences", headers={"Authorization": f"Bearer {token}"}
    ).json()
    assert prefs["showText"] is False
    section.scroll_into_view_if_needed()
    shot(page, "phone-settings-notifications.png")
